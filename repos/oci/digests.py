"""Content digests: validation, computation and the patterns URLs and parsers match them with.

``parse_digest`` is the gate a client-supplied digest must pass before it is used
to build a filesystem path, so it is deliberately strict: only the algorithms we
can verify, lowercase hex, exact length.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

# Grammar from the OCI image spec (descriptor.md). Anything matching this is a
# well-formed digest, but not necessarily one we support.
DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")

# Supported algorithm -> exact hex length of its encoded part.
SUPPORTED_ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}

_HEX_RE = re.compile(r"[0-9a-f]+")

# Exactly the digests ``parse_digest`` accepts, as regular expressions (URL routes, tool output).
SHA256_HEX_PATTERN = r"[0-9a-f]{64}"
SHA256_PATTERN = rf"sha256:{SHA256_HEX_PATTERN}"
SUPPORTED_DIGEST_PATTERN = "(?:" + "|".join(f"{alg}:[0-9a-f]{{{n}}}" for alg, n in SUPPORTED_ALGORITHMS.items()) + ")"


class InvalidDigest(ValueError):
    """Raised for malformed or unsupported digests."""


@dataclass(frozen=True, slots=True)
class Digest:
    algorithm: str
    hex: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def parse_digest(value: str) -> Digest:
    """Validate ``value`` ("sha256:<64 lowercase hex>") and split it.

    Raises InvalidDigest for anything else, including well-formed digests of an
    unsupported algorithm.
    """
    if not isinstance(value, str) or not value:
        raise InvalidDigest("digest is empty")
    # fullmatch (not match + "$") so a trailing newline cannot sneak through.
    if not DIGEST_RE.fullmatch(value):
        raise InvalidDigest(f"malformed digest: {value[:100]!r}")
    algorithm, _, encoded = value.partition(":")
    expected_len = SUPPORTED_ALGORITHMS.get(algorithm)
    if expected_len is None:
        raise InvalidDigest(f"unsupported digest algorithm: {algorithm[:32]!r}")
    if len(encoded) != expected_len or not _HEX_RE.fullmatch(encoded):
        raise InvalidDigest(f"{algorithm} digest must be {expected_len} lowercase hex characters")
    return Digest(algorithm=algorithm, hex=encoded)


def is_valid_digest(value: object) -> bool:
    """True when ``value`` is a supported, well-formed digest string."""
    if not isinstance(value, str):
        return False
    try:
        parse_digest(value)
    except InvalidDigest:
        return False
    return True


class Sha256Hasher(Protocol):
    def hexdigest(self) -> str: ...


def sha256_digest(data: bytes) -> str:
    """Return ``"sha256:<hex>"`` for ``data``."""
    return hasher_digest(hashlib.sha256(data))


def hasher_digest(hasher: Sha256Hasher) -> str:
    """``"sha256:<hex>"`` of what a sha256 hasher was fed (uploads hash while they stream)."""
    return f"sha256:{hasher.hexdigest()}"
