"""Pure OCI / Docker distribution parsing helpers (stdlib only, no Django)."""

from . import media_types, platforms
from .digests import (
    DIGEST_RE,
    Digest,
    InvalidDigest,
    hasher_digest,
    is_valid_digest,
    parse_digest,
    sha256_digest,
)
from .image_config import HistoryEntry, ImageConfig, layer_history, parse_image_config
from .manifests import (
    Descriptor,
    ImageIndex,
    ImageManifest,
    ManifestError,
    MediaTypeMismatch,
    ParsedManifest,
    Platform,
    UnsupportedManifestType,
    parse_manifest,
    referenced_digests,
)
from .names import is_digest_reference, is_valid_key, is_valid_name, is_valid_tag, split_name
from .platforms import (
    is_attestation,
    is_valid_platform,
    normalize_platform,
    parse_platform,
    platform_label,
    platform_tag,
)

__all__ = [
    "DIGEST_RE",
    "Descriptor",
    "Digest",
    "HistoryEntry",
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "InvalidDigest",
    "ManifestError",
    "MediaTypeMismatch",
    "ParsedManifest",
    "Platform",
    "UnsupportedManifestType",
    "hasher_digest",
    "is_attestation",
    "is_digest_reference",
    "is_valid_digest",
    "is_valid_key",
    "is_valid_name",
    "is_valid_platform",
    "is_valid_tag",
    "layer_history",
    "media_types",
    "normalize_platform",
    "parse_digest",
    "parse_image_config",
    "parse_manifest",
    "parse_platform",
    "platform_label",
    "platform_tag",
    "platforms",
    "referenced_digests",
    "sha256_digest",
    "split_name",
]
