"""Creating, changing and deleting repositories: REST, browser and manage.py share one set of rules."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import RepositoryGrant
from repos.models import Image, RemoteSettings, Repository, VirtualMember
from repos.services.upstream_credentials import credential_decrypt
from tests.support.factories import RepositoryFactory

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def test_create_local_remote_and_virtual_over_rest(admin_client):
    local = post(
        admin_client,
        "/api/repositories/",
        {"key": "docker-dev", "description": "dev builds", "stage": "dev", "required_platforms": ["linux/amd64"]},
    )
    assert local.status_code == 201, local.content
    assert local.json()["kind"] == "local" and local.json()["required_platforms"] == ["linux/amd64"]

    remote = post(
        admin_client,
        "/api/repositories/",
        {
            "key": "hub",
            "kind": "remote",
            "upstream_url": "http://127.0.0.1:5999",
            "username": "bot",
            "password": "s3cret-token",
            "library_prefix": True,
            "tag_cache_seconds": 60,
        },
    )
    assert remote.status_code == 201, remote.content
    body = remote.json()
    assert body["remote"]["upstream_url"] == "http://127.0.0.1:5999" and body["remote"]["has_password"] is True
    assert "s3cret-token" not in remote.content.decode()
    stored = RemoteSettings.objects.get(repository__key="hub")
    assert "s3cret" not in stored.password_encrypted and credential_decrypt(stored.password_encrypted) == "s3cret-token"

    virtual = post(
        admin_client,
        "/api/repositories/",
        {
            "key": "docker-virtual",
            "kind": "virtual",
            "members": ["docker-dev", "hub"],
            "default_deployment": "docker-dev",
        },
    )
    assert virtual.status_code == 201, virtual.content
    assert virtual.json()["members"] == ["docker-dev", "hub"] and virtual.json()["default_deployment"] == "docker-dev"
    listed = admin_client.get("/api/repositories/").json()["results"]
    assert {r["key"]: r["kind"] for r in listed} == {
        "docker-dev": "local",
        "hub": "remote",
        "docker-virtual": "virtual",
    }
    assert "s3cret" not in admin_client.get("/api/repositories/hub/").content.decode()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"key": "Bad_Key"}, "key"),
        ({"key": "a..b"}, "key"),
        ({"key": "-lead"}, "key"),
        ({"key": "x" * 65}, "key"),
        ({"key": "ok", "kind": "mirror"}, "kind"),
        ({"key": "ok", "required_platforms": ["linux/amd64", "<script>"]}, "required_platforms"),
        ({"key": "ok", "kind": "remote"}, "upstream_url"),
        ({"key": "ok", "kind": "remote", "upstream_url": "ftp://example.org"}, "upstream_url"),
        ({"key": "ok", "kind": "remote", "upstream_url": "https://user:pw@example.org"}, "upstream_url"),
        ({"key": "ok", "kind": "remote", "upstream_url": "http://127.0.0.1:5000/v2"}, "upstream_url"),
        ({"key": "ok", "upstream_url": "https://example.org"}, "upstream_url"),
        ({"key": "ok", "kind": "virtual", "members": ["nope"]}, "members"),
        ({"key": "ok", "kind": "virtual", "members": ["ok"]}, "members"),
        (
            {"key": "ok", "kind": "virtual", "members": ["docker-dev"], "default_deployment": "hub"},
            "default_deployment",
        ),
        ({"key": "ok", "colour": "blue"}, "colour"),
        ({"key": "docker-dev"}, "key"),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(admin_client, data, field):
    RepositoryFactory(key="docker-dev")
    RepositoryFactory(key="hub", kind="remote")
    before = Repository.objects.count()
    response = post(admin_client, "/api/repositories/", data)
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["code"] == "INVALID" and error["detail"][field][0]
    assert Repository.objects.count() == before


def test_private_upstream_refused_unless_allowed(admin_client, settings):
    settings.UPSTREAM_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1:5000",
        "http://169.254.169.254",
        "http://[::1]:5000",
        "http://2130706433",
        "http://10.1.2.3",
        "http://localhost:5000",
    ):
        response = post(admin_client, "/api/repositories/", {"key": "hub", "kind": "remote", "upstream_url": url})
        assert (
            response.status_code == 400 and "non-public" in response.json()["errors"][0]["detail"]["upstream_url"][0]
        ), (
            url,
            response.content,
        )
    assert not Repository.objects.filter(key="hub").exists()


def test_patch_changes_settings_and_keeps_the_password(admin_client):
    post(
        admin_client,
        "/api/repositories/",
        {
            "key": "hub",
            "kind": "remote",
            "upstream_url": "http://127.0.0.1:5999",
            "username": "bot",
            "password": "first",
        },
    )
    response = patch(admin_client, "/api/repositories/hub/", {"tag_cache_seconds": 5, "description": "cache"})
    assert response.status_code == 200, response.content
    remote = RemoteSettings.objects.get(repository__key="hub")
    assert remote.tag_cache_seconds == 5 and credential_decrypt(remote.password_encrypted) == "first"
    assert patch(admin_client, "/api/repositories/hub/", {"kind": "local"}).status_code == 400
    assert patch(admin_client, "/api/repositories/hub/", {"members": ["hub"]}).status_code == 400
    assert admin_client.put("/api/repositories/hub/", "{}", content_type="application/json").status_code == 405


def test_repository_admin_may_change_settings_but_not_upstream(django_user_model):
    repository = RepositoryFactory(key="hub", kind="remote")
    RemoteSettings.objects.create(repository=repository, upstream_url="http://127.0.0.1:5999")
    user = django_user_model.objects.create_user("ops", password="pw-12345678")
    RepositoryGrant.objects.create(repository=repository, user=user, permission="admin")
    client = Client()
    client.force_login(user)
    assert patch(client, "/api/repositories/hub/", {"description": "ours"}).status_code == 200
    assert patch(client, "/api/repositories/hub/", {"upstream_url": "http://127.0.0.1:1"}).status_code == 403
    assert post(client, "/api/repositories/", {"key": "mine"}).status_code == 403
    assert client.delete("/api/repositories/hub/?force=true").status_code == 403
    assert RemoteSettings.objects.get(repository=repository).upstream_url == "http://127.0.0.1:5999"


def test_anonymous_and_readers_cannot_create(client):
    assert post(client, "/api/repositories/", {"key": "x"}).status_code in (401, 403)
    assert not Repository.objects.filter(key="x").exists()


def test_delete_needs_force_when_it_holds_content(admin_client, pushed):
    virtual = post(
        admin_client,
        "/api/repositories/",
        {"key": "v", "kind": "virtual", "members": ["docker-local"], "default_deployment": "docker-local"},
    )
    assert virtual.status_code == 201
    response = admin_client.delete("/api/repositories/docker-local/")
    [error] = response.json()["errors"]
    assert response.status_code == 409 and error["code"] == "NOT_EMPTY" and "force" in error["message"]
    assert Image.objects.filter(repository__key="docker-local").exists()
    assert admin_client.delete("/api/repositories/docker-local/?force=true").status_code == 204
    assert not Repository.objects.filter(key="docker-local").exists()
    assert not VirtualMember.objects.filter(virtual__key="v").exists()
    assert Repository.objects.get(key="v").default_deployment is None
    # An empty repository goes without confirmation.
    RepositoryFactory(key="empty")
    assert admin_client.delete("/api/repositories/empty/").status_code == 204


def test_browser_list_create_settings_and_delete(admin_client, pushed):
    page = admin_client.get("/repositories/").content.decode()
    assert 'href="/repositories/-/new/"' in page and 'href="/repositories/docker-local/-/delete/"' in page
    response = admin_client.post(
        "/repositories/-/new/",
        {
            "key": "hub",
            "kind": "remote",
            "upstream_url": "http://127.0.0.1:5999",
            "password": "pw",
            "username": "u",
            "tag_cache_seconds": 30,
            "stage_order": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/repositories/hub/", response.content.decode()[
        -3000:
    ]
    settings_page = admin_client.get("/repositories/hub/-/settings/").content.decode()
    assert "http://127.0.0.1:5999" in settings_page and "pw" not in settings_page.split("csrfmiddlewaretoken")[0][-50:]
    assert 'name="password"' in settings_page and 'value="pw"' not in settings_page
    bad = admin_client.post("/repositories/-/new/", {"key": "Bad Key", "kind": "local"})
    assert bad.status_code == 200 and "lower-case" in bad.content.decode().lower()

    # Deleting a repository with content: the key typed again.
    wrong = admin_client.post("/repositories/docker-local/-/delete/", {"confirm_key": "docker"})
    assert wrong.status_code == 200 and Repository.objects.filter(key="docker-local").exists()
    done = admin_client.post("/repositories/docker-local/-/delete/", {"confirm_key": "docker-local"})
    assert done.status_code == 302 and not Repository.objects.filter(key="docker-local").exists()


def test_manage_py_repository(capsys):
    call_command(
        "repository", "create", "docker-dev", "--stage", "dev", "--required-platforms", "linux/amd64,linux/arm64"
    )
    assert Repository.objects.get(key="docker-dev").required_platforms == ["linux/amd64", "linux/arm64"]
    import sys

    stdin = sys.stdin
    sys.stdin = io.StringIO("tok-123\n")
    try:
        call_command(
            "repository",
            "create",
            "hub",
            "--kind",
            "remote",
            "--upstream-url",
            "http://127.0.0.1:5999",
            "--username",
            "bot",
            "--password-stdin",
        )
    finally:
        sys.stdin = stdin
    assert credential_decrypt(RemoteSettings.objects.get(repository__key="hub").password_encrypted) == "tok-123"
    call_command(
        "repository",
        "create",
        "all",
        "--kind",
        "virtual",
        "--members",
        "docker-dev,hub",
        "--default-deployment",
        "docker-dev",
    )
    call_command("repository", "update", "hub", "--tag-cache-seconds", "5")
    assert RemoteSettings.objects.get(repository__key="hub").tag_cache_seconds == 5
    with pytest.raises(CommandError, match="key"):
        call_command("repository", "create", "Bad")
    call_command("repository", "delete", "all")
    assert not Repository.objects.filter(key="all").exists()
