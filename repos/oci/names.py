"""Repository name and tag validation (OCI distribution spec grammar)."""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 255
MAX_TAG_LENGTH = 128
MAX_KEY_LENGTH = 64

# Path components are lowercase alphanumerics joined by ".", "_", "__" or runs of
# "-". Every repetition needs a separator, so this cannot backtrack badly.
# A component never is a lone "-", so "/-/" cannot be part of a name (dashboard URLs rely on it).
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_PATTERN = rf"{_COMPONENT}(?:/{_COMPONENT})*"
NAME_RE = re.compile(NAME_PATTERN)
TAG_PATTERN = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
TAG_RE = re.compile(TAG_PATTERN)

# A repository key: the first component of every name in the repository ("docker-local"), stricter
# than a name component (single separators only).
KEY_PATTERN = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
KEY_RE = re.compile(KEY_PATTERN)


def is_valid_name(name: object) -> bool:
    """True for a spec-conformant repository name of at most 255 characters."""
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and NAME_RE.fullmatch(name) is not None


def is_valid_key(key: object) -> bool:
    """True for a repository key (lowercase alphanumerics joined by single ".", "_" or "-")."""
    return isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and KEY_RE.fullmatch(key) is not None


def is_valid_tag(tag: object) -> bool:
    """True for a spec-conformant tag (1-128 chars, not starting with '.' or '-')."""
    return isinstance(tag, str) and TAG_RE.fullmatch(tag) is not None


def is_digest_reference(reference: str) -> bool:
    """A manifest reference names a digest when it holds ":" (a tag never does), else a tag."""
    return ":" in reference


def split_name(name: str) -> tuple[str, str]:
    """Split ``"<repository-key>/<image path>"`` at the first slash.

    ``"docker-local/team/app"`` -> ``("docker-local", "team/app")``. Only splits;
    validate the full name with ``is_valid_name`` separately.
    """
    key, sep, path = name.partition("/")
    if not sep or not key or not path:
        raise ValueError(f"expected '<repository>/<image>', got {name[:100]!r}")
    return key, path
