"""Blob store on a local (or network) filesystem: ``root/sha256/ab/<hex>``."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .base import ALGORITHM, BlobNotFound, BlobStore, StoredBlob, digest_from_parts, relative_key

FILE_MODE = 0o644


class FilesystemBlobStore(BlobStore):
    """Write-once blobs under ``root``; serves ``local_path`` for sendfile.

    ``commit`` publishes a staged file with a hard link (atomic and never
    overwrites, so the first writer wins even under a race) and falls back to
    ``os.replace`` on filesystems without hard links, and to copy-into-a-temp
    file-then-link when the staged file is on another device (EXDEV).
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True):
        self.root = os.path.abspath(os.fspath(root))
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"FilesystemBlobStore({self.root!r})"

    def _path(self, digest: str) -> str:
        return os.path.join(self.root, *relative_key(digest).split("/"))

    # -- reading ----------------------------------------------------------
    def exists(self, digest: str) -> bool:
        return os.path.isfile(self._path(digest))

    def size(self, digest: str) -> int | None:
        try:
            return os.stat(self._path(digest)).st_size
        except FileNotFoundError:
            return None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self._path(digest), "rb")
        except FileNotFoundError:
            raise BlobNotFound(digest) from None

    def local_path(self, digest: str) -> str | None:
        return self._path(digest)

    def presigned_url(self, digest: str, *, expires: int = 300) -> str | None:
        relative_key(digest)  # validate for consistency with other backends
        return None

    def iter_digests(self) -> Iterator[str]:
        algo_dir = os.path.join(self.root, ALGORITHM)
        try:
            shards = sorted(e.name for e in os.scandir(algo_dir) if e.is_dir())
        except FileNotFoundError:
            return
        for shard in shards:
            try:
                entries = list(os.scandir(os.path.join(algo_dir, shard)))
            except FileNotFoundError:
                continue
            for entry in entries:
                digest = digest_from_parts(shard, entry.name)
                if digest is not None and entry.is_file():
                    yield digest

    def iter_entries(self) -> Iterator[StoredBlob]:
        for digest in self.iter_digests():
            try:
                st = os.stat(self._path(digest))
            except FileNotFoundError:
                continue
            yield StoredBlob(digest, st.st_size, st.st_mtime)

    # -- writing ----------------------------------------------------------
    def commit(self, *, staged_path: str, digest: str) -> bool:
        target = self._path(digest)
        if os.path.exists(target):
            Path(staged_path).unlink(missing_ok=True)
            return False
        target_dir = os.path.dirname(target)
        os.makedirs(target_dir, exist_ok=True)
        os.chmod(staged_path, FILE_MODE)
        if self.fsync:
            _fsync_file(staged_path)
        try:
            stored = _publish(staged_path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            stored = self._publish_by_copy(staged_path, target_dir, target)
        Path(staged_path).unlink(missing_ok=True)
        if stored and self.fsync:
            _fsync_dir(target_dir)
        return stored

    def _publish_by_copy(self, staged_path: str, target_dir: str, target: str) -> bool:
        fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out, open(staged_path, "rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
            os.chmod(tmp, FILE_MODE)
            return _publish(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def delete(self, digest: str) -> None:
        Path(self._path(digest)).unlink(missing_ok=True)


def _publish(src: str, target: str) -> bool:
    """Make ``src`` visible at ``target`` atomically without overwriting.

    Returns False if ``target`` already exists.  ``src`` is left in place
    when the hard link succeeds; the caller removes it.
    """
    try:
        os.link(src, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        # No hard links here (some FUSE/SMB mounts): check-then-rename.  A
        # concurrent writer can slip in between, but it holds the same bytes.
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
    if os.path.exists(target):
        return False
    os.replace(src, target)
    return True


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
