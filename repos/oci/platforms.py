"""Platforms: the ``os/architecture[/variant]`` label, attestations, and the per-platform tag of an index child.

Every other module asks here: what a platform label looks like, how it is written and read, which
index children are attestations rather than platforms, and what an index tag's per-platform tag is called.
"""

from __future__ import annotations

import re

from .names import is_valid_tag

# os/architecture value BuildKit gives the attestation manifests (provenance, SBOM) it attaches to an index.
UNKNOWN = "unknown"
# The annotations BuildKit puts on such a child: what it is ("attestation-manifest") and the image it is about.
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"
REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"

# The platform a client that names none pulls from an index (docker's and containerd's fallback).
DEFAULT_OS = "linux"
DEFAULT_ARCHITECTURE = "amd64"

# What we accept where a user names a platform (required platforms, build platforms, search).
PLATFORM_PATTERN = r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?"
PLATFORM_RE = re.compile(PLATFORM_PATTERN)


def is_attestation(os: str | None, architecture: str | None) -> bool:
    """True for an index child that is an attestation, not a platform image."""
    return os == UNKNOWN or architecture == UNKNOWN


def platform_label(os: str | None, architecture: str | None, variant: str | None = "") -> str:
    """``"linux/amd64"`` or ``"linux/arm64/v8"``; empty fields are left out (``""`` when there is none)."""
    return "/".join(part for part in (os, architecture, variant) if part)


def is_valid_platform(label: object) -> bool:
    """True for a well-formed lowercase ``os/architecture[/variant]`` label."""
    return isinstance(label, str) and PLATFORM_RE.fullmatch(label) is not None


def parse_platform(label: str) -> tuple[str, str, str]:
    """``"linux/arm/v7"`` -> ``("linux", "arm", "v7")``; the variant is ``""`` when absent.

    Only splits (validate with ``is_valid_platform`` where the grammar matters); raises ValueError
    unless there are two or three non-empty parts.
    """
    parts = label.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"expected os/architecture[/variant], got {label[:100]!r}")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


# The variant a platform means when it names none, as docker and containerd match platforms.
DEFAULT_VARIANTS = {"arm64": "v8", "arm": "v7"}


def normalize_platform(os: str | None, architecture: str | None, variant: str | None = "") -> tuple[str, str, str]:
    """(os, architecture, variant) as docker and containerd compare them: arm64 is arm64/v8, arm is
    arm/v7, amd64/v1 is amd64."""
    architecture = architecture or ""
    variant = variant or DEFAULT_VARIANTS.get(architecture, "")
    if architecture == "amd64" and variant == "v1":
        variant = ""
    return os or "", architecture, variant


def platform_tag(tag: str, os: str, architecture: str, variant: str | None = None) -> str | None:
    """Per-platform alias tag for an index child, e.g. ``"1.0-linux-arm-v7"``.

    Returns None for attestation/unknown platforms and whenever the result would
    not be a valid tag (too long, odd characters in the platform fields).
    """
    if not os or not architecture or is_attestation(os, architecture):
        return None
    result = f"{tag}-{os}-{architecture}"
    if variant:
        result += f"-{variant}"
    return result if is_valid_tag(result) else None


def label_platform_tag(tag: str, label: str) -> str | None:
    """``platform_tag`` for a platform given as its label (``"linux/arm/v7"``); None for a malformed label."""
    try:
        os, architecture, variant = parse_platform(label)
    except ValueError:
        return None
    return platform_tag(tag, os, architecture, variant or None)
