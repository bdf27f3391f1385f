"""Registry bearer tokens are verified once per process, yet what they may do is decided now:
a revoked or expired API token, a deactivated user, a lost grant or an expired JWT is refused at once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, RepositoryGrant
from accounts.services.tokens import token_revoke
from repos.registry import subjects as registry_subjects
from repos.registry import tokens as registry_tokens
from tests.support.world import NAME

pytestmark = pytest.mark.usefixtures("fast_passwords")  # the world's cheap hasher, the tests' signing key

MANIFEST = f"/v2/{NAME}/manifests/1.0"


@pytest.fixture(autouse=True)
def fresh_caches():
    registry_tokens._verified.clear()
    registry_subjects.forget_all()
    yield
    registry_tokens._verified.clear()
    registry_subjects.forget_all()


def bearer(world, role: str, actions: str = "pull") -> dict:
    response = Client().get(
        "/v2/token", {"scope": f"repository:{NAME}:{actions}", "service": "multiarch-registry"}, **world.v2_auth(role)
    )
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def get(headers: dict):
    return Client().get(MANIFEST, **headers)


def refused(response) -> bool:
    return response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_is_verified_once_then_served_from_the_cache(world, monkeypatch):
    headers = bearer(world, "writer")
    calls = []
    original = registry_tokens._token_verify_signed
    monkeypatch.setattr(registry_tokens, "_token_verify_signed", lambda raw: calls.append(raw) or original(raw))
    for _ in range(5):
        assert get(headers).status_code == 200
    assert len(calls) == 1


def test_a_revoked_api_token_is_refused_at_once(world):
    token, _ = world.tokens["token_rw"]
    headers = bearer(world, "token_rw")
    assert get(headers).status_code == 200  # verified and cached
    token_revoke(actor=world.users["writer"], token=ApiToken.objects.get(pk=token.pk))
    assert refused(get(headers))


def test_an_api_token_that_expires_is_refused_at_once(world):
    token, _ = world.tokens["token_rw"]
    headers = bearer(world, "token_rw")
    assert get(headers).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert refused(get(headers))


def test_a_deactivated_user_is_refused_at_once(world):
    headers = bearer(world, "writer")
    assert get(headers).status_code == 200
    get_user_model().objects.filter(pk=world.users["writer"].pk).update(is_active=False)
    assert refused(get(headers))


def test_a_removed_grant_is_gone_at_once(world):
    headers = bearer(world, "writer")
    assert get(headers).status_code == 200
    RepositoryGrant.objects.filter(user=world.users["writer"]).delete()
    assert get(headers).status_code == 404  # may not read it any more: answered like a missing name


def test_a_demoted_superuser_loses_access_at_once(world):
    headers = bearer(world, "site_admin")
    assert get(headers).status_code == 200
    get_user_model().objects.filter(pk=world.users["site_admin"].pk).update(is_superuser=False)
    assert get(headers).status_code == 404


def test_an_expired_jwt_is_refused_even_from_the_cache(world, monkeypatch):
    headers = bearer(world, "writer")
    assert get(headers).status_code == 200
    raw = headers["HTTP_AUTHORIZATION"].split(" ", 1)[1]
    expires = registry_tokens.token_verify(raw)["exp"]
    monkeypatch.setattr(registry_tokens, "_now", lambda: expires + registry_tokens.CLOCK_SKEW)
    assert refused(get(headers))
    with pytest.raises(registry_tokens.InvalidRegistryToken):
        registry_tokens.token_verify(raw)


def test_a_recreated_user_with_the_same_name_is_not_the_cached_one(world, django_user_model):
    """What the cache holds is bound to the rows it came from (ids, password and token hashes)."""
    headers = bearer(world, "writer")
    assert get(headers).status_code == 200
    writer = world.users["writer"]
    django_user_model.objects.filter(pk=writer.pk).update(username="writer-old")
    django_user_model.objects.create_user(username=writer.username, password="another one")
    assert get(headers).status_code == 404  # the new user holds no grant


def test_the_verified_cache_is_bounded(monkeypatch):
    cache = registry_tokens._VerifiedTokens(size=3)
    for n in range(5):
        cache.put((f"t{n}",), {"exp": 10**10})
    assert cache.get(("t0",)) is None and cache.get(("t1",)) is None
    assert cache.get(("t4",)) == {"exp": 10**10}


@pytest.mark.parametrize("role", ["writer", "site_admin", "token_rw"])
def test_an_authenticated_manifest_get_asks_few_queries(world, role, django_assert_max_num_queries):
    headers = bearer(world, role)
    assert get(headers).status_code == 200
    # The subject's state, the grants (not for a superuser) and the manifest itself.
    with django_assert_max_num_queries(3):
        assert get(headers).status_code == 200
