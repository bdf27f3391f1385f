"""Parsing of Docker v2 / OCI image manifests and indexes from raw bytes.

``parse_manifest`` never raises anything but ``ManifestError`` for any input;
callers map that to the registry's MANIFEST_INVALID error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import media_types as mt
from .digests import InvalidDigest, parse_digest
from .platforms import is_attestation, platform_label

# Sizes are int64 in the image spec (and in the database).
MAX_DESCRIPTOR_SIZE = 2**63 - 1


class ManifestError(ValueError):
    """The manifest cannot be accepted; ``reason`` is a client-facing message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedManifestType(ManifestError):
    """Unknown media type, or Docker schema1."""


class MediaTypeMismatch(ManifestError):
    """The Content-Type header disagrees with the body's ``mediaType``."""


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``"linux/amd64"`` or ``"linux/arm64/v8"``."""
        return platform_label(self.os, self.architecture, self.variant)

    @property
    def is_attestation(self) -> bool:
        return is_attestation(self.os, self.architecture)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    platform: Platform | None = None
    urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImageManifest:
    media_type: str
    config: Descriptor
    layers: list[Descriptor]
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return False

    @property
    def effective_artifact_type(self) -> str:
        # Image spec: when artifactType is absent the config media type stands in.
        return self.artifact_type or self.config.media_type


@dataclass(frozen=True)
class ImageIndex:
    media_type: str
    manifests: list[Descriptor]
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return True

    @property
    def effective_artifact_type(self) -> str | None:
        return self.artifact_type


ParsedManifest = ImageManifest | ImageIndex


# --- field helpers -----------------------------------------------------------


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{where}.{key} must be a string")
    return value or None


def _req_str(obj: dict[str, Any], key: str, where: str) -> str:
    value = _opt_str(obj, key, where)
    if value is None:
        raise ManifestError(f"{where}.{key} is required")
    return value


def _str_list(obj: dict[str, Any], key: str, where: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}.{key} must be a list of strings")
    return list(value)


def _annotations(obj: dict[str, Any], where: str) -> dict[str, str]:
    value = obj.get("annotations")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ManifestError(f"{where}.annotations must be a string-to-string map")
    return dict(value)


def _platform(value: Any, where: str) -> Platform | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be an object")
    return Platform(
        os=_req_str(value, "os", where),
        architecture=_req_str(value, "architecture", where),
        variant=_opt_str(value, "variant", where),
        os_version=_opt_str(value, "os.version", where),
        os_features=_str_list(value, "os.features", where),
        features=_str_list(value, "features", where),
    )


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestError(f"{where} must be an object")
    digest = _req_str(value, "digest", where)
    try:
        parse_digest(digest)
    except InvalidDigest as exc:
        raise ManifestError(f"{where}.digest: {exc}") from None
    size = value.get("size")
    # bool is an int subclass; JSON true must not pass as size 1.
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{where}.size must be a non-negative integer")
    if size > MAX_DESCRIPTOR_SIZE:
        raise ManifestError(f"{where}.size must be below 2^63")
    return Descriptor(
        media_type=_req_str(value, "mediaType", where),
        digest=digest,
        size=size,
        annotations=_annotations(value, where),
        artifact_type=_opt_str(value, "artifactType", where),
        platform=_platform(value.get("platform"), f"{where}.platform"),
        urls=_str_list(value, "urls", where),
    )


def _descriptor_list(value: Any, where: str) -> list[Descriptor]:
    if not isinstance(value, list):
        raise ManifestError(f"{where} must be a list")
    return [_descriptor(item, f"{where}[{i}]") for i, item in enumerate(value)]


# --- decoding and media type resolution --------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are resolved differently by different JSON parsers; refusing
    # them avoids the registry and a client disagreeing about what was pushed.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ManifestError(f"duplicate JSON key {key[:64]!r}")
        out[key] = value
    return out


def _decode(raw: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    try:
        text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ManifestError:
        raise
    # ValueError covers JSONDecodeError, bad UTF-8 and over-long integer literals;
    # RecursionError comes from very deeply nested input.
    except (ValueError, TypeError, RecursionError) as exc:
        raise ManifestError(f"manifest is not valid JSON: {exc}"[:300]) from None
    if not isinstance(doc, dict):
        raise ManifestError("manifest must be a JSON object")
    return doc


def _resolve_media_type(doc: dict[str, Any], content_type: str | None) -> str:
    body_type = doc.get("mediaType")
    if body_type is not None and not isinstance(body_type, str):
        raise ManifestError("mediaType must be a string")
    header_type = mt.normalize_content_type(content_type)

    if body_type and header_type and body_type != header_type:
        raise MediaTypeMismatch(f"Content-Type {header_type!r} does not match mediaType {body_type!r}")
    media_type = body_type or header_type
    if not media_type:
        # OCI allows omitting mediaType; fall back to the document's shape, but
        # refuse shapes that could be read either way.
        has_index_shape = "manifests" in doc
        has_image_shape = "config" in doc or "layers" in doc
        if has_index_shape and not has_image_shape:
            media_type = mt.OCI_INDEX
        elif has_image_shape and not has_index_shape:
            media_type = mt.OCI_MANIFEST
        else:
            raise ManifestError("cannot determine manifest media type")
    if media_type in mt.SCHEMA1_TYPES:
        raise UnsupportedManifestType("Docker schema1 manifests are not supported")
    if media_type not in mt.MANIFEST_TYPES:
        raise UnsupportedManifestType(f"unsupported manifest media type {media_type[:200]!r}")
    return media_type


def parse_manifest(raw: bytes | bytearray | memoryview | str, content_type: str | None = None) -> ParsedManifest:
    """Parse and validate a manifest or index; raises only ManifestError."""
    doc = _decode(raw)
    version = doc.get("schemaVersion")
    if version == 1 and not isinstance(version, bool):
        raise UnsupportedManifestType("Docker schema1 manifests are not supported")
    media_type = _resolve_media_type(doc, content_type)
    if not isinstance(version, int) or isinstance(version, bool) or version != 2:
        raise ManifestError("schemaVersion must be 2")

    subject_raw = doc.get("subject")
    subject = None if subject_raw is None else _descriptor(subject_raw, "subject")
    artifact_type = _opt_str(doc, "artifactType", "manifest")
    annotations = _annotations(doc, "manifest")

    if media_type in mt.INDEX_TYPES:
        if "manifests" not in doc:
            raise ManifestError("index requires a 'manifests' list")
        return ImageIndex(
            media_type=media_type,
            manifests=_descriptor_list(doc["manifests"], "manifests"),
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )

    if "config" not in doc:
        raise ManifestError("image manifest requires a 'config' descriptor")
    if "layers" not in doc:
        raise ManifestError("image manifest requires a 'layers' list")
    return ImageManifest(
        media_type=media_type,
        config=_descriptor(doc["config"], "config"),
        # May be empty: OCI artifacts often carry everything in the config.
        layers=_descriptor_list(doc["layers"], "layers"),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
    )


def referenced_digests(parsed: ParsedManifest) -> list[str]:
    """Digests the manifest owns: config + layers, or an index's children.

    Order is preserved and duplicates dropped. ``subject`` is not included: it
    points at another manifest rather than at content this one depends on.
    """
    if isinstance(parsed, ImageIndex):
        descriptors = list(parsed.manifests)
    else:
        descriptors = [parsed.config, *parsed.layers]
    return list(dict.fromkeys(d.digest for d in descriptors))
