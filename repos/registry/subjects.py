"""Who a verified registry bearer token acts for, checked against the database on every request.

A token names a user (`sub`) and, when an API token was used to get it, that token (`tok`). Both can
change after the token was issued: the user deactivated, the API token revoked or expired. So every
request asks the database one small question (the user's id, whether it is active and a superuser,
whether the API token is still usable, and what identifies both rows) with a raw query that skips the ORM's query building, the
cost that dominated an authenticated pull. Loaded users and tokens are kept per process (bounded)
and used only while that answer still matches them; each request gets its own shallow copy, so
nothing one request caches on them leaks into another. Grants are still read by
accounts.permissions on each request, so revocation, deactivation and a lost grant all take effect
at once in every process, with no invalidation to broadcast.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from accounts.models import ApiToken
from accounts.permissions import acting_token_set, token_repository_ids

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SUBJECT_CACHE_SIZE = 1024


@dataclass(frozen=True)
class _State:
    user_id: int
    is_superuser: bool
    password: str  # with the token's secret hash: which row this is, even if an id was reused
    token_hash: str | None  # None: no usable API token by that id

    def matches(self, subject: _Subject) -> bool:
        user, token = subject.user, subject.token
        return (
            user.pk == self.user_id
            and user.is_superuser == self.is_superuser
            and user.password == self.password
            and (token is None or token.secret_hash == self.token_hash)
        )


@dataclass(frozen=True)
class _Subject:
    user: User
    token: ApiToken | None


_subjects: OrderedDict[tuple[str, int | None], _Subject] = OrderedDict()
_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _state_sql(vendor: str) -> str:
    user_meta, token_meta = get_user_model()._meta, ApiToken._meta
    quote = connection.ops.quote_name
    u_table, t_table = quote(user_meta.db_table), quote(token_meta.db_table)

    def column(meta, name):
        return quote(meta.get_field(name).column)

    return (
        f"SELECT u.{column(user_meta, 'id')}, u.{column(user_meta, 'is_superuser')}, "  # noqa: S608 - quoted identifiers
        f"u.{column(user_meta, 'password')}, t.{column(token_meta, 'secret_hash')} "
        f"FROM {u_table} u LEFT JOIN {t_table} t ON t.{column(token_meta, 'id')} = %s "
        f"AND t.{column(token_meta, 'user')} = u.{column(user_meta, 'id')} "
        f"AND t.{column(token_meta, 'revoked_at')} IS NULL AND t.{column(token_meta, 'expires_at')} > %s "
        f"WHERE u.{column(user_meta, 'username')} = %s AND u.{column(user_meta, 'is_active')} = %s"
    )


def _current_state(username: str, token_id: int | None) -> _State | None:
    """None when no active user has this name."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_state_sql(connection.vendor), [token_id, now, username, True])
        row = cursor.fetchone()
    if row is None:
        return None
    return _State(user_id=row[0], is_superuser=bool(row[1]), password=row[2], token_hash=row[3])


def _load(username: str, token_id: int | None) -> _Subject | None:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        return None
    token = None
    if token_id is not None:
        token = ApiToken.objects.filter(pk=token_id, user=user).first()
        if token is None or not token.is_active:
            return None
        token_repository_ids(token)  # loaded once: a token's repositories are fixed when it is created
    return _Subject(user=user, token=token)


def _remember(key: tuple[str, int | None], subject: _Subject) -> None:
    with _lock:
        _subjects[key] = subject
        _subjects.move_to_end(key)
        while len(_subjects) > SUBJECT_CACHE_SIZE:
            _subjects.popitem(last=False)


def _recall(key: tuple[str, int | None]) -> _Subject | None:
    with _lock:
        subject = _subjects.get(key)
        if subject is not None:
            _subjects.move_to_end(key)
        return subject


def forget_all() -> None:
    with _lock:
        _subjects.clear()


def subject_user(username: str, token_id: int | None):
    """The active user the token acts for (with `acting_token` for an API token), or None when the
    user is gone or inactive, or the API token revoked, expired or not theirs."""
    state = _current_state(username, token_id)
    if state is None or (token_id is not None and state.token_hash is None):
        return None
    key = (username, token_id)
    subject = _recall(key)
    if subject is None or not state.matches(subject):
        subject = _load(username, token_id)
        if subject is None:
            return None
        _remember(key, subject)
    user = copy.copy(subject.user)
    if subject.token is not None:
        acting_token_set(user, copy.copy(subject.token))
    return user
