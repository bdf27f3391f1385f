"""Local staging area for in-progress blob uploads (one file per upload)."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import Readable

DEFAULT_CHUNK_SIZE = 1024 * 1024
# A UUID as 32 hex digits or in the canonical dashed form; never path chars.
_UPLOAD_ID_RE = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def validate_upload_id(upload_id: str) -> str:
    if not isinstance(upload_id, str) or _UPLOAD_ID_RE.fullmatch(upload_id) is None:
        raise ValueError(f"invalid upload id: {upload_id!r}")
    return upload_id


class UploadStaging:
    """Upload files live at ``root/<upload_id>``; ids are kept verbatim."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = os.path.abspath(os.fspath(root))

    def __repr__(self) -> str:
        return f"UploadStaging({self.root!r})"

    def path(self, upload_id: str) -> str:
        return os.path.join(self.root, validate_upload_id(upload_id))

    def create(self, upload_id: str) -> None:
        """Create an empty upload file; FileExistsError if the id is taken."""
        path = self.path(upload_id)
        os.makedirs(self.root, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    def size(self, upload_id: str) -> int:
        """Bytes written so far; FileNotFoundError for an unknown upload."""
        return os.stat(self.path(upload_id)).st_size

    def append(
        self,
        upload_id: str,
        stream: Readable,
        *,
        hasher: Any = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        limit: int | None = None,
    ) -> int:
        """Append ``stream`` (until EOF, or at most ``limit`` bytes).

        Returns the number of bytes written, which is less than ``limit`` if
        the stream ended early (the caller decides whether that is an error
        and may ``truncate`` back).  Raises FileNotFoundError for an unknown
        upload.  Memory use is bounded by ``chunk_size``.
        """
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        fd = os.open(self.path(upload_id), os.O_WRONLY | os.O_APPEND)
        written = 0
        try:
            while limit is None or written < limit:
                want = chunk_size if limit is None else min(chunk_size, limit - written)
                data = stream.read(want)
                if not data:
                    break
                if len(data) > want:  # a misbehaving stream; never exceed limit
                    data = data[:want]
                _write_all(fd, data)
                if hasher is not None:
                    hasher.update(data)
                written += len(data)
        finally:
            os.close(fd)
        return written

    def truncate(self, upload_id: str, size: int) -> None:
        """Roll the upload back to ``size`` bytes (never extends it)."""
        path = self.path(upload_id)
        if size < 0 or size > os.stat(path).st_size:
            raise ValueError(f"cannot truncate upload {upload_id} to {size}")
        os.truncate(path, size)

    def rehash(self, upload_id: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Any:
        """A sha256 hasher fed with the whole staged file (can be continued)."""
        hasher = hashlib.sha256()
        with open(self.path(upload_id), "rb") as fh:
            while chunk := fh.read(chunk_size):
                hasher.update(chunk)
        return hasher

    def remove(self, upload_id: str) -> None:
        Path(self.path(upload_id)).unlink(missing_ok=True)

    def iter_stale(self, older_than_seconds: float) -> Iterator[str]:
        """Upload ids whose file was last modified more than N seconds ago."""
        cutoff = time.time() - older_than_seconds
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return
        for entry in entries:
            if _UPLOAD_ID_RE.fullmatch(entry.name) is None:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.is_file(follow_symlinks=False) and st.st_mtime < cutoff:
                yield entry.name


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
