"""Repository name and tag validation (OCI distribution spec grammar)."""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 255
MAX_TAG_LENGTH = 128

# Path components are lowercase alphanumerics joined by ".", "_", "__" or runs of
# "-". Every repetition needs a separator, so this cannot backtrack badly.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")

# os/architecture value used by BuildKit for attestation manifests in an index.
UNKNOWN_PLATFORM = "unknown"


def is_valid_name(name: object) -> bool:
    """True for a spec-conformant repository name of at most 255 characters."""
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and NAME_RE.fullmatch(name) is not None


def is_valid_tag(tag: object) -> bool:
    """True for a spec-conformant tag (1-128 chars, not starting with '.' or '-')."""
    return isinstance(tag, str) and TAG_RE.fullmatch(tag) is not None


def split_name(name: str) -> tuple[str, str]:
    """Split ``"<repository-key>/<image path>"`` at the first slash.

    ``"docker-local/team/app"`` -> ``("docker-local", "team/app")``. Only splits;
    validate the full name with ``is_valid_name`` separately.
    """
    key, sep, path = name.partition("/")
    if not sep or not key or not path:
        raise ValueError(f"expected '<repository>/<image>', got {name[:100]!r}")
    return key, path


def platform_tag(tag: str, os: str, architecture: str, variant: str | None = None) -> str | None:
    """Per-platform alias tag for an index child, e.g. ``"1.0-linux-arm-v7"``.

    Returns None for attestation/unknown platforms and whenever the result would
    not be a valid tag (too long, odd characters in the platform fields).
    """
    if not os or not architecture:
        return None
    if os == UNKNOWN_PLATFORM or architecture == UNKNOWN_PLATFORM:
        return None
    result = f"{tag}-{os}-{architecture}"
    if variant:
        result += f"-{variant}"
    return result if is_valid_tag(result) else None
