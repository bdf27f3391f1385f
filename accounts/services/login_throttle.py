"""Throttling password guessing: failed password logins are counted per account and per client address
in the shared cache (Redis, or files under $DATA_DIR: every web process sees the same counts).

Past the limit in the current window, further password attempts for that account (or from that address)
are refused with 429 and `Retry-After` before any password is checked, so guessing costs the attacker
the window while a right guess is refused too. API tokens are never counted nor refused here: they are
256-bit secrets, nothing to guess, and CI keeps working while someone hammers its owner's password.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


def _window() -> tuple[int, int]:
    """(current window number, seconds until it ends)."""
    length = max(int(settings.LOGIN_FAILURE_WINDOW_SECONDS), 1)
    now = time.time()
    return int(now // length), max(int(length - now % length), 1)


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    window, _ = _window()
    account = hashlib.sha256(username.strip().lower().encode("utf-8", "surrogateescape")).hexdigest()
    keys = [(f"login-failures:account:{account}:{window}", settings.LOGIN_FAILURES_PER_ACCOUNT)]
    if address:
        keys.append((f"login-failures:address:{address}:{window}", settings.LOGIN_FAILURES_PER_ADDRESS))
    return keys


def client_address(request) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is the client's to forge.
    return request.META.get("REMOTE_ADDR") if request is not None else None


def login_throttle_check(*, request, username: str) -> None:
    """Raise LoginThrottled when the account or the address has used up its failures in this window."""
    keys = _keys(username, client_address(request))
    try:
        counts = cache.get_many([key for key, _ in keys])
    except Exception as exc:  # noqa: BLE001 - the cache (Redis) is down: log in unthrottled, not a 500
        logger.warning("login throttle: cache unavailable (%s); not throttling", type(exc).__name__)
        return
    if any(counts.get(key, 0) >= limit for key, limit in keys if limit > 0):
        raise LoginThrottled(_window()[1])


def login_failure_record(*, request, username: str) -> None:
    try:
        _failure_count(request=request, username=username)
    except Exception as exc:  # noqa: BLE001 - the cache (Redis) is down: the failure stays a 401, not a 500
        logger.warning("login throttle: cache unavailable (%s); failure not counted", type(exc).__name__)


def _failure_count(*, request, username: str) -> None:
    _, remaining = _window()
    for key, _ in _keys(username, client_address(request)):
        if not cache.add(key, 1, timeout=remaining + 1):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=remaining + 1)
