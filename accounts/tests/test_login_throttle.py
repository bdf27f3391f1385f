"""Issue 12, defect 8: password guessing is throttled per account and per address on the login page, Basic auth
(/v2/ and the REST API) and /v2/token — 429 with Retry-After — while API tokens keep working."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.services.tokens import token_create

PASSWORD = "the right password, long enough"
LIMIT = 5


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


@pytest.fixture
def victim(db, settings, django_user_model):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURES_PER_ACCOUNT = LIMIT
    settings.LOGIN_FAILURES_PER_ADDRESS = 3 * LIMIT
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    cache.clear()
    user = django_user_model.objects.create_superuser("victim", password=PASSWORD)
    yield user
    cache.clear()


def _v2(auth: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).get("/v2/", HTTP_AUTHORIZATION=auth)


def _token_endpoint(auth: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).get("/v2/token?service=multiarch-registry", HTTP_AUTHORIZATION=auth)


def _rest(auth: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).get("/api/users/me/", HTTP_AUTHORIZATION=auth)


def _login_page(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


CHANNELS = {
    "v2-basic": (lambda pw, a="10.0.0.1": _v2(basic("victim", pw), a), 200),
    "v2-token": (lambda pw, a="10.0.0.1": _token_endpoint(basic("victim", pw), a), 200),
    "rest-basic": (lambda pw, a="10.0.0.1": _rest(basic("victim", pw), a), 200),
    "login-page": (lambda pw, a="10.0.0.1": _login_page("victim", pw, a), 302),
}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_guessing_one_account_is_throttled_with_retry_after(victim, channel):
    attempt, success = CHANNELS[channel]
    for i in range(LIMIT):
        assert attempt(f"guess {i}").status_code in (401, 200), i  # the login page re-renders with 200
    throttled = attempt("guess again")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 600
    # Even the right password is refused while throttled (a guess must not tell right from wrong) ...
    assert attempt(PASSWORD).status_code == 429
    # ... from any address: the account is what is protected.
    assert attempt(PASSWORD, "10.9.9.9").status_code == 429


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_failures_on_any_channel_add_up(victim, channel):
    attempt, _ = CHANNELS[channel]
    others = [c for c in sorted(CHANNELS) if c != channel]
    for i in range(LIMIT):
        CHANNELS[others[i % len(others)]][0](f"guess {i}")
    assert attempt(PASSWORD).status_code == 429


def test_below_the_limit_the_right_password_works_everywhere(victim):
    for i in range(LIMIT - 1):
        _v2(basic("victim", f"guess {i}"))
    for channel, (attempt, success) in CHANNELS.items():
        assert attempt(PASSWORD).status_code == success, channel


def test_one_address_guessing_many_accounts_is_throttled(victim, django_user_model):
    for i in range(3 * LIMIT):
        assert _v2(basic(f"user{i}", "guess"), "10.6.6.6").status_code == 401
    assert _v2(basic("victim", PASSWORD), "10.6.6.6").status_code == 429
    assert _v2(basic("victim", PASSWORD), "10.7.7.7").status_code == 200  # other addresses are not affected


def test_api_tokens_are_never_locked_out(victim):
    _, secret = token_create(
        creator=victim, name="ci", permissions=["read"], repositories=[], expires_at=timezone.now() + timedelta(days=1)
    )
    for i in range(3 * LIMIT + 1):
        _v2(basic("victim", f"guess {i}"))
    assert _v2(basic("victim", PASSWORD)).status_code == 429
    for address in ("10.0.0.1", "10.1.1.1"):
        assert _v2(basic("victim", secret), address).status_code == 200
        assert _v2(f"Bearer {secret}", address).status_code == 200
        assert _token_endpoint(basic("token", secret), address).status_code == 200
        assert _rest(f"Bearer {secret}", address).status_code == 200
    # Wrong token secrets are not password guesses: they do not count against the account either.
    cache.clear()
    for _ in range(LIMIT + 1):
        assert _v2(basic("victim", secret[:-4] + "AAAA")).status_code == 401
    assert _v2(basic("victim", PASSWORD)).status_code == 200


def test_the_window_ends(victim, settings, monkeypatch):
    import accounts.services.login_throttle as throttle

    now = [1_000_000.0]
    monkeypatch.setattr(throttle.time, "time", lambda: now[0])
    for i in range(LIMIT):
        _v2(basic("victim", f"guess {i}"))
    assert _v2(basic("victim", PASSWORD)).status_code == 429
    now[0] += settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert _v2(basic("victim", PASSWORD)).status_code == 200


def test_the_cache_is_shared_by_web_processes():
    """Counts must reach every gunicorn worker: a process-local cache would multiply the limit."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    assert "locmem" not in backend.lower() and "dummy" not in backend.lower()
