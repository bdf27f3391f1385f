"""Writing a build's log while it runs, and archiving it into the database when it ends."""

from __future__ import annotations

import threading
import time

from django.db import IntegrityError, transaction

from builds.logstore import MAX_LINES, clean_line, get_log_store
from builds.models import BuildJob, BuildLog

FLUSH_LINES = 200


class LogWriter:
    """Buffers lines from any thread; `flush()` appends them to the live store (also on every heartbeat)."""

    def __init__(self, build_id: int, *, echo=None):
        self.build_id = build_id
        self.store = get_log_store()
        self.echo = echo
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._written = self.store.count(build_id)
        self.truncated = False
        self._last_flush = time.monotonic()

    def line(self, text: str) -> None:
        text = clean_line(text)
        with self._lock:
            if self._written + len(self._pending) >= MAX_LINES:
                self.truncated = True
                return
            self._pending.append(text)
            due = len(self._pending) >= FLUSH_LINES or time.monotonic() - self._last_flush > 0.5
        if self.echo:
            self.echo(text)
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            if pending:
                self.store.append(self.build_id, pending)
                self._written += len(pending)


def build_log_archive(*, job: BuildJob) -> BuildLog | None:
    """Copy the live log into the database and drop the live copy (idempotent)."""
    store = get_log_store()
    lines = store.read(job.pk, 0)
    if BuildLog.objects.filter(job=job).exists():
        store.drop(job.pk)
        return None
    try:
        with transaction.atomic():
            archived = BuildLog.objects.create(
                job=job, text="\n".join(lines), line_count=len(lines), truncated=len(lines) >= MAX_LINES
            )
    except IntegrityError:  # archived meanwhile by the reconciler
        archived = None
    store.drop(job.pk)
    return archived
