"""A small world for permission tests: repositories with content, one user per role (a reader through a team),
grants and API tokens. Fixtures `world` (built once per module, each test rolled back) and `fast_passwords`,
registered for every test package by the root conftest."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client, override_settings

from accounts.models import AuditEvent
from repos.models import Blob, Manifest, Repository
from repos.oci import media_types
from repos.storage import reset_storage_cache
from repos.tests.registry.client import RegistryClient
from tests.support import content as f
from tests.support.content import digest_of
from tests.support.factories import PASSWORD, GrantFactory, RepositoryFactory, TeamFactory, UserFactory, api_token

__all__ = ["GRANTS", "NAME", "PASSWORD", "ROLES", "World", "basic", "fast_passwords", "world", "world_module"]
NAME = "docker-local/app"
# Every role of the permission tables. token_rw: the writer's token scoped read+write to docker-local;
# token_ro: the site admin's token scoped read-only to docker-local (a token never carries more).
ROLES = [
    "anonymous",
    "outsider",
    "reader",
    "writer",
    "deleter",
    "promoter",
    "repo_admin",
    "site_admin",
    "token_rw",
    "token_ro",
]
GRANTS = {"reader": "read", "writer": "write", "deleter": "delete", "promoter": "promote", "repo_admin": "admin"}


@pytest.fixture(scope="session")
def signing_key_path(tmp_path_factory):
    return tmp_path_factory.mktemp("token-key") / "registry_token_key.pem"


@pytest.fixture
def fast_passwords(settings, signing_key_path):
    """A cheap hasher keeps hundreds of Basic checks fast; production keeps Django's default.
    The token-signing key of the tests lives in a temporary directory, not in the dev $DATA_DIR."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REGISTRY_TOKEN_KEY_PATH = str(signing_key_path)
    cache.clear()
    yield
    cache.clear()


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


@dataclass
class World:
    private: Repository
    public: Repository
    target: Repository
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)  # role -> (ApiToken, secret)
    team: Group | None = None
    manifest_raw: bytes = b""
    manifest_digest: str = ""
    other_raw: bytes = b""
    layer_digest: str = ""
    loose_digest: str = ""
    public_blob: str = ""

    def admin_client(self) -> Client:
        client = Client()
        client.force_login(self.users["site_admin"])
        return client

    def new_upload(self, name: str = NAME) -> str:
        """A fresh upload session (uploads change staged files, which a rollback cannot undo)."""
        response = self.admin_client().post(f"/v2/{name}/blobs/uploads/")
        assert response.status_code == 202, response.content
        return response["Location"]

    def user(self, role: str):
        if role.startswith("token"):
            return self.tokens[role][0].user
        return self.users.get(role)

    def v2_auth(self, role: str) -> dict:
        """Basic credentials for /v2/: the password, or for token roles the API token."""
        if role == "anonymous":
            return {}
        if role.startswith("token"):
            return {"HTTP_AUTHORIZATION": basic("token", self.tokens[role][1])}
        return {"HTTP_AUTHORIZATION": basic(self.users[role].username, PASSWORD)}

    def api_auth(self, role: str) -> dict:
        """REST: Basic with the password, or `Authorization: Bearer <API token>` for token roles."""
        if role.startswith("token"):
            return {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[role][1]}"}
        return self.v2_auth(role)


def _push_image(registry: RegistryClient, name: str, tag: str, salt: str) -> tuple[bytes, str]:
    config = f.image_config()
    layer = f"layer {salt}".encode()
    registry.push_blob(name, config)
    registry.push_blob(name, layer)
    raw = f.image_manifest(config=config, layers=[layer], oci=True)
    response = registry.push_manifest(name, tag, raw, media_types.OCI_MANIFEST)
    assert response.status_code == 201, response.content
    return raw, digest_of(layer)


def _build_world() -> World:
    private = RepositoryFactory.create(key="docker-local")
    public = RepositoryFactory.create(key="public-repo", is_public=True)
    target = RepositoryFactory.create(key="docker-target")
    w = World(private=private, public=public, target=target)
    for role in ("outsider", *GRANTS):
        w.users[role] = UserFactory.create(username=role.replace("_", "-"))
    w.users["site_admin"] = UserFactory.create(username="site-admin", is_staff=True, is_superuser=True)
    # The reader holds read through a team, the others directly.
    w.team = TeamFactory.create(name="readers", members=[w.users["reader"]])
    GrantFactory.create(repository=private, user=None, team=w.team, permission="read")
    for role, permission in GRANTS.items():
        if role != "reader":
            GrantFactory.create(repository=private, user=w.users[role], permission=permission)
    w.tokens["token_rw"] = api_token(
        w.users["writer"], name="ci", permissions=["read", "write"], repositories=[private]
    )
    w.tokens["token_ro"] = api_token(w.users["site_admin"], name="ro", permissions=["read"], repositories=[private])
    registry = RegistryClient(w.admin_client())
    w.manifest_raw, w.layer_digest = _push_image(registry, NAME, "1.0", "one")
    w.manifest_digest = digest_of(w.manifest_raw)
    w.other_raw = json.dumps(json.loads(w.manifest_raw)).encode()  # same content, other bytes and digest
    w.loose_digest = registry.push_blob(NAME, b"a blob no manifest uses")
    _push_image(registry, "public-repo/app", "1.0", "public")
    w.public_blob = registry.push_blob("public-repo/app", b"public loose blob")
    return w


def _remove_world(w: World) -> None:
    Repository.objects.filter(pk__in=[w.private.pk, w.public.pk, w.target.pk]).delete()
    Manifest.objects.all().delete()
    Blob.objects.all().delete()
    if w.team is not None:
        Group.objects.filter(pk=w.team.pk).delete()
    for user in w.users.values():
        user.delete()
    AuditEvent.objects.all().delete()


@pytest.fixture(scope="module")
def world_module(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once per test module and committed; each test still runs in its own rolled-back
    transaction, so a test that deletes or overwrites leaves the next one the same world."""
    root = tmp_path_factory.mktemp("accounts-world")
    with override_settings(
        BLOB_STORAGE={"BACKEND": "filesystem", "ROOT": str(root / "blobs")},
        UPLOAD_STAGING_ROOT=str(root / "uploads"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        reset_storage_cache()
        with django_db_blocker.unblock():
            w = _build_world()
        try:
            yield w
        finally:
            with django_db_blocker.unblock():
                _remove_world(w)
            reset_storage_cache()


@pytest.fixture
def world(world_module, db, fast_passwords) -> World:
    return world_module
