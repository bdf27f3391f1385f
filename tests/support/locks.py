"""A database lock held by the test, so the code under test stops at a known point inside its transaction
(PostgreSQL): the test waits until that code is blocked on the lock, acts (kills the process, runs the
reconciler, races a second writer), then lets it go. No pause in production code, no fixed sleep."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import IN_CI
from tests.support.waiting import wait_until

WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def require_postgresql(database_url: str | None = None) -> str:
    """The PostgreSQL URL the tests use; without one the test fails in CI and is skipped elsewhere."""
    url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        message = "needs PostgreSQL (DATABASE_URL): a lock held by the test must block a writer, not the database"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


# In this process (pytest-django's database, code under test in threads).


@contextmanager
def rows_locked(queryset) -> Iterator[None]:
    """The queryset's rows (not the rows it joins for its ordering) locked FOR UPDATE by another connection
    until the block ends."""
    from django.db import connection, transaction

    locked, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                assert list(queryset.select_for_update(of=("self",))), "nothing to lock"
                locked.set()
                release.wait(timeout=300)
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
            failure.append(exc)
            locked.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold, name="lock-holder")
    holder.start()
    locked.wait(timeout=60)
    try:
        if failure:
            raise failure[0]
        yield
    finally:
        release.set()
        holder.join(timeout=60)


def lock_waiters() -> int:
    """Connections to the test database waiting on a lock now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(WAITING_ON_A_LOCK)
        row = cursor.fetchone()
        return row[0] if row else 0


def wait_for_lock_waiters(count: int = 1, *, what: str = "the writer to block on the test's lock") -> None:
    wait_until(lambda: lock_waiters() >= count, what=what)


# A server's database (the code under test in other processes).


@contextmanager
def image_row_locked(database_url: str, *, repository: str, image: str) -> Iterator[None]:
    """The image's row locked FOR UPDATE until the block ends. A promotion from it claims its job (`running`),
    opens its transaction, locks the job row and makes the target image, then waits here for the image lock."""
    import psycopg

    with psycopg.connect(database_url) as holder:  # not autocommit: the lock lasts until the rollback
        found = holder.execute(
            "SELECT image.id FROM repos_image image JOIN repos_repository repository"
            " ON repository.id = image.repository_id WHERE repository.key = %s AND image.name = %s"
            " FOR UPDATE OF image",
            (repository, image),
        ).fetchall()
        assert found, f"no image {repository}/{image} to lock"
        try:
            yield
        finally:
            holder.rollback()


def wait_for_lock_waiter(database_url: str, *, what: str = "the run to block on the test's lock") -> None:
    import psycopg

    def waiting() -> bool:
        with psycopg.connect(database_url, autocommit=True) as probe:
            row = probe.execute(WAITING_ON_A_LOCK).fetchone()
            return row is not None and row[0] > 0

    wait_until(waiting, what=what, timeout=120)
