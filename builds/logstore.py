"""Live build logs: lines appended while a build runs, read from a line index.

A Redis list per build when REDIS_URL is set (web and workers may be on different hosts), else
an append-only file per build under BUILD_LOG_DIR. A finished build's log is archived into the
database (BuildLog) and the live copy dropped; see builds/services/logs.py.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import cast

from django.conf import settings

MAX_LINE_CHARS = 4096
MAX_LINES = 50_000
LIVE_TTL_SECONDS = 7 * 24 * 3600
# A log line never contains a newline, so the file store can split on it.
_TRUNCATED = " …[line truncated]"


def clean_line(line: str) -> str:
    line = line.rstrip("\r\n").replace("\r", "").replace("\n", " ")
    if len(line) > MAX_LINE_CHARS:
        line = line[:MAX_LINE_CHARS] + _TRUNCATED
    return line


class RedisLogStore:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, decode_responses=True)

    @staticmethod
    def _key(build_id: int) -> str:
        return f"builds:log:{build_id}"

    def append(self, build_id: int, lines: list[str]) -> None:
        if lines:
            key = self._key(build_id)
            pipe = self.client.pipeline()
            pipe.rpush(key, *[clean_line(line) for line in lines])
            pipe.ltrim(key, 0, MAX_LINES - 1)
            # A live log is archived when its build ends; one left behind (a lost worker) expires.
            pipe.expire(key, LIVE_TTL_SECONDS)
            pipe.execute()

    def read(self, build_id: int, start: int = 0) -> list[str]:
        return cast(list[str], self.client.lrange(self._key(build_id), max(start, 0), -1))  # decode_responses=True

    def count(self, build_id: int) -> int:
        return self.client.llen(self._key(build_id))

    def drop(self, build_id: int) -> None:
        self.client.delete(self._key(build_id))


class FileLogStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, build_id: int) -> Path:
        return self.root / f"{int(build_id)}.log"

    def append(self, build_id: int, lines: list[str]) -> None:
        if not lines:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        data = "".join(clean_line(line) + "\n" for line in lines).encode()
        # One write() on an O_APPEND descriptor: concurrent appenders never interleave within it.
        fd = os.open(self._path(build_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def read(self, build_id: int, start: int = 0) -> list[str]:
        try:
            with open(self._path(build_id), encoding="utf-8", errors="replace") as handle:
                lines = handle.read().split("\n")
        except FileNotFoundError:
            return []
        # The last element is "" after the final newline (or a partly written line: not yet).
        return lines[max(start, 0) : -1]

    def count(self, build_id: int) -> int:
        return len(self.read(build_id))

    def drop(self, build_id: int) -> None:
        self._path(build_id).unlink(missing_ok=True)


@lru_cache(maxsize=4)
def _store_for(redis_url: str, log_dir: str):
    return RedisLogStore(redis_url) if redis_url else FileLogStore(log_dir)


def get_log_store():
    return _store_for(settings.REDIS_URL, settings.BUILD_LOG_DIR)
