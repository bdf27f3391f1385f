"""Checking a username and a secret (a password or an API token) from any channel.

Every failure looks the same to the caller, whether the user exists or not. A password check costs
a slow hash, and registry clients repeat their credentials on many requests, so a success is
remembered for a minute per process, keyed by an HMAC of the credentials (never the password) and
bound to the stored password hash, so changing the password ends it at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache

from accounts.models import AuditEvent
from accounts.permissions import acting_token_set
from accounts.services.audit import audit_record
from accounts.services.login_throttle import login_throttle_check
from accounts.services.tokens import looks_like_token, token_authenticate

CACHE_SECONDS = 60
TOKEN_USERNAMES = ("token",)


def parse_basic(header: str) -> tuple[str, str] | None:
    """(username, secret) from an `Authorization: Basic ...` value, None if malformed."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return username, secret


def _cache_key(username: str, secret: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{username}\0{secret}".encode(), hashlib.sha256)
    return "accounts:basic:" + mac.hexdigest()


def _fingerprint(user) -> str:
    """Changes whenever the password does; not the stored hash itself, in case the cache is shared."""
    return hashlib.sha256(f"{user.pk}\0{user.password}".encode()).hexdigest()


def _from_cache(key: str):
    try:
        remembered = cache.get(key)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: check the password instead
        return None
    if not remembered:
        return None
    user_id, fingerprint = remembered
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not hmac.compare_digest(_fingerprint(user), fingerprint):
        cache.delete(key)
        return None
    return user


def authenticate_token(request, secret: str, *, username: str | None = None, channel: str):
    """The token's user acting through it (`user.acting_token`), or None."""
    token = token_authenticate(secret)
    if token is None or (username is not None and username not in (token.user.get_username(), *TOKEN_USERNAMES)):
        audit_record(
            action=AuditEvent.Action.LOGIN_FAILED,
            request=request,
            actor_name="",
            detail={"channel": channel, "method": "api_token"},
        )
        return None
    user = token.user
    acting_token_set(user, token)
    return user


def authenticate_secret(request, *, username: str, secret: str, channel: str):
    """The user for a username and a password or API token, or None. Failures are audited and counted;
    a password attempt past the failure limits raises LoginThrottled before anything is checked."""
    if looks_like_token(secret):
        return authenticate_token(request, secret, username=username, channel=channel)
    login_throttle_check(request=request, username=username)
    key = _cache_key(username, secret)
    user = _from_cache(key)
    if user is not None:
        return user
    # Django's backend runs the hasher even for unknown users, so timing does not enumerate them;
    # a failure fires user_login_failed, which the audit log records.
    user = authenticate(request, username=username, password=secret, channel=channel)
    if user is None:
        return None
    try:
        cache.set(key, (user.pk, _fingerprint(user)), CACHE_SECONDS)
    except Exception:  # noqa: BLE001, S110 - the cache (Redis) is down: nothing remembered, the login still works
        pass
    return user
