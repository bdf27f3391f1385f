"""Fixtures for the dashboard and API tests: a signed-in admin, a pushed multi-arch image, seeded data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from repos.demo.seeding import seed_dashboard_content
from repos.models import Repository
from repos.oci import media_types
from repos.tests.dashboard.content import SIGNATURE_PAYLOAD, MultiArch, multiarch
from repos.tests.registry.client import RegistryClient
from tests.support.factories import RepositoryFactory


@pytest.fixture
def admin_client(db, django_user_model):
    admin = django_user_model.objects.create_superuser(username="dash-admin", email="", password=None)
    client = Client()
    client.force_login(admin)
    return client


@dataclass
class Pushed:
    repository: Repository
    name: str
    tag: str
    content: MultiArch

    @property
    def base(self) -> str:
        return f"/repositories/{self.repository.key}/{self.name}"


def push_multiarch(client, *, key: str, name: str, tag: str, content: MultiArch) -> None:
    registry = RegistryClient(client)
    client_name = f"{key}/{name}"
    for blob in [*content.blobs, b"{}", SIGNATURE_PAYLOAD]:
        registry.push_blob(client_name, blob)
    for raw in content.manifests_in_push_order():
        response = registry.push_manifest(client_name, _digest(raw), raw, media_types.OCI_MANIFEST)
        assert response.status_code == 201, response.content
    response = registry.push_manifest(client_name, tag, content.index, media_types.OCI_INDEX)
    assert response.status_code == 201, response.content
    response = registry.push_manifest(
        client_name, _digest(content.signature), content.signature, media_types.OCI_MANIFEST
    )
    assert response.status_code == 201, response.content


def _digest(raw: bytes) -> str:
    from repos.demo.content import sha256

    return sha256(raw)


@pytest.fixture
def pushed(admin_client, blob_storage) -> Pushed:
    repository = RepositoryFactory.create(
        key="docker-local", stage="dev", stage_order=10, description="Local builds <b>unsafe</b>"
    )
    content = multiarch("app")
    push_multiarch(admin_client, key="docker-local", name="team/app", tag="1.0", content=content)
    repository.refresh_from_db()
    return Pushed(repository=repository, name="team/app", tag="1.0", content=content)


def seed(images: int) -> None:
    """`images` images with ten tags each (index tags, their per-platform tags, a few plain ones)."""
    seed_dashboard_content(images=images, tags=images * 10, write_blobs=False, prefix="seed")
