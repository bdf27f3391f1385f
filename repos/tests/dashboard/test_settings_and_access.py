"""Repository settings (admins only) and what anonymous visitors may see."""

import pytest

from repos.models import Repository
from tests.support.factories import RepositoryFactory

pytestmark = pytest.mark.django_db


def test_admin_changes_settings(admin_client, pushed):
    url = "/repositories/docker-local/-/settings/"
    page = admin_client.get(url).content.decode()
    assert 'name="required_platforms"' in page
    response = admin_client.post(
        url,
        {
            "description": "Where CI pushes",
            "stage": "test",
            "stage_order": 20,
            "is_public": "on",
            "required_platforms": "linux/amd64, linux/arm64 linux/arm/v7",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/repositories/docker-local/"
    repository = Repository.objects.get(key="docker-local")
    assert repository.description == "Where CI pushes" and repository.stage == "test"
    assert repository.is_public and not repository.tag_immutability
    assert repository.required_platforms == ["linux/amd64", "linux/arm64", "linux/arm/v7"]


def test_invalid_platform_is_refused(admin_client, pushed):
    response = admin_client.post(
        "/repositories/docker-local/-/settings/",
        {
            "stage_order": 1,
            "required_platforms": "linux/amd64, <script>",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not a platform" in page and "<script>" not in page
    assert Repository.objects.get(key="docker-local").required_platforms == []


def test_reader_cannot_change_settings(client, pushed):
    Repository.objects.filter(key="docker-local").update(is_public=True)
    assert client.get("/repositories/docker-local/").status_code == 200
    assert client.get("/repositories/docker-local/-/settings/").status_code == 403
    response = client.post("/repositories/docker-local/-/settings/", {"stage_order": 0, "description": "x"})
    assert response.status_code == 403
    assert Repository.objects.get(key="docker-local").description != "x"
    assert "/-/settings/" not in client.get("/repositories/docker-local/").content.decode()


def test_anonymous_sees_public_repositories_only(client, pushed):
    RepositoryFactory(key="open-source", is_public=True, description="public one")
    home = client.get("/").content.decode()
    assert 'href="/repositories/open-source/"' in home and 'href="/repositories/docker-local/"' not in home
    assert "/repositories/docker-local/team/app/" not in home
    for url in (
        "/repositories/docker-local/",
        f"{pushed.base}/",
        f"{pushed.base}/-/tags/1.0/",
        f"{pushed.base}/-/manifests/{pushed.content.index_digest}/",
        "/repositories/docker-local/-/settings/",
    ):
        assert client.get(url).status_code == 404, url
    link = "/repositories/docker-local/team/app/"
    assert link not in client.get("/coverage/").content.decode()
    assert "team/app" not in client.get("/coverage.csv").content.decode()
    assert link not in client.get("/search/", {"q": "app"}).content.decode()
    by_digest = client.get("/search/", {"q": pushed.content.index_digest}).content.decode()
    assert f'title="{pushed.content.index_digest}"' not in by_digest and "0 found" in by_digest
