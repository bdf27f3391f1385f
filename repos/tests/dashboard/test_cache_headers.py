"""Issue 12, defect 10: what a signed-in user sees carries `Cache-Control: private, no-store`."""

import pytest
from django.test import Client

from tests.support.factories import RepositoryFactory

PAGES = [
    "/",
    "/repositories/docker-local/",
    "/builds/",
    "/promotions/",
    "/accounts/tokens/",
    "/api/repositories/",
    "/api/users/me/",
]


@pytest.fixture
def signed_in(db, blob_storage, django_user_model):
    RepositoryFactory(key="docker-local", is_public=True)
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("boss", password="a long password"))
    return client


@pytest.mark.parametrize("path", PAGES)
def test_authenticated_pages_are_not_stored(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code == 200, path
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


def test_api_token_responses_are_not_stored_either(signed_in, django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.services.tokens import token_create

    user = django_user_model.objects.get(username="boss")
    _, secret = token_create(
        creator=user, name="ci", permissions=["read"], repositories=[], expires_at=timezone.now() + timedelta(days=1)
    )
    response = Client().get("/api/repositories/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_anonymous_public_pages_and_v2_keep_their_caching(signed_in):
    assert "no-store" not in Client().get("/repositories/docker-local/").get("Cache-Control", "")
    assert "no-store" not in signed_in.get("/v2/").get("Cache-Control", "")
