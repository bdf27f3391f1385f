"""Backend-agnostic interface for the content-addressed blob store.

Blobs are addressed by their OCI digest (``sha256:<64 lowercase hex>``) and
laid out as ``sha256/<first two hex>/<hex>`` under the backend's root/prefix.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from repos.oci.digests import SHA256_HEX_PATTERN, SHA256_PATTERN

ALGORITHM = "sha256"
_DIGEST_RE = re.compile(SHA256_PATTERN)
_HEX_RE = re.compile(SHA256_HEX_PATTERN)


@dataclass(frozen=True)
class StoredBlob:
    digest: str
    size: int
    modified: float  # POSIX timestamp of the last write


class Readable(Protocol):
    """What uploads read from: a request body, a file, a wrapper counting the bytes."""

    def read(self, size: int = -1, /) -> bytes: ...


class BlobNotFound(Exception):
    """Raised when a blob that was asked for is not in the store."""


def _validate(digest: str) -> str:
    """Return the hex part of a valid sha256 digest or raise ``ValueError``.

    This is deliberately strict (lowercase only, exact length) because the
    result is used to build filesystem paths and object keys.
    """
    if not isinstance(digest, str) or _DIGEST_RE.fullmatch(digest) is None:
        raise ValueError(f"invalid blob digest: {digest!r}")
    return digest.split(":", 1)[1]


def relative_key(digest: str) -> str:
    """``sha256:abcd...`` -> ``sha256/ab/abcd...`` (always '/'-separated)."""
    hexpart = _validate(digest)
    return f"{ALGORITHM}/{hexpart[:2]}/{hexpart}"


def digest_from_parts(shard: str, hexpart: str) -> str | None:
    """Inverse of :func:`relative_key`; None if the parts are not a blob."""
    if _HEX_RE.fullmatch(hexpart) is None or hexpart[:2] != shard:
        return None
    return f"{ALGORITHM}:{hexpart}"


class BlobStore(abc.ABC):
    """A content-addressed, write-once blob store."""

    @abc.abstractmethod
    def exists(self, digest: str) -> bool:
        """True if the blob is stored."""

    @abc.abstractmethod
    def size(self, digest: str) -> int | None:
        """Size in bytes, or None if the blob is absent."""

    @abc.abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """A readable binary stream of the blob; raises BlobNotFound."""

    @abc.abstractmethod
    def local_path(self, digest: str) -> str | None:
        """Filesystem path usable for sendfile, or None for remote backends."""

    @abc.abstractmethod
    def presigned_url(self, digest: str, *, expires: int = 300) -> str | None:
        """A time-limited direct download URL, or None if unsupported."""

    @abc.abstractmethod
    def commit(self, *, staged_path: str, digest: str) -> bool:
        """Atomically move a verified staged file into place.

        Returns True if this call stored the blob and False if it already
        existed (first writer wins).  The staged file is removed either way.
        The caller is responsible for having verified ``digest``.
        """

    @abc.abstractmethod
    def delete(self, digest: str) -> None:
        """Remove the blob; a no-op if it is absent."""

    @abc.abstractmethod
    def iter_digests(self) -> Iterator[str]:
        """Yield the digest of every stored blob (order unspecified)."""

    def iter_entries(self) -> Iterator[StoredBlob]:
        """Every stored blob with its size and last write time (one listing, no per-blob calls)."""
        for digest in self.iter_digests():
            size = self.size(digest)
            if size is not None:
                yield StoredBlob(digest, size, 0.0)

    def delete_many(self, digests: Iterable[str]) -> None:
        for digest in digests:
            self.delete(digest)
