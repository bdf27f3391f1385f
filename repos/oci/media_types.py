"""Media type constants for Docker v2 / OCI image manifests, configs and layers.

Every media type string used by the registry is defined here exactly once.
"""

from __future__ import annotations

# Manifests and indexes.
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

# Docker schema1 is recognised only so that it can be rejected with a clear message.
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA1_TYPES: frozenset[str] = frozenset({DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED})

# Image configs.
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

# Layers.
DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_NONDIST_TAR_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDIST_TAR_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

# Groupings.
INDEX_TYPES: frozenset[str] = frozenset({DOCKER_MANIFEST_LIST_V2, OCI_INDEX})
IMAGE_MANIFEST_TYPES: frozenset[str] = frozenset({DOCKER_MANIFEST_V2, OCI_MANIFEST})
MANIFEST_TYPES: frozenset[str] = INDEX_TYPES | IMAGE_MANIFEST_TYPES
CONFIG_TYPES: frozenset[str] = frozenset({DOCKER_CONFIG, OCI_CONFIG})
LAYER_TYPES: frozenset[str] = frozenset(
    {
        DOCKER_LAYER_TAR_GZIP,
        DOCKER_LAYER_FOREIGN,
        OCI_LAYER_TAR,
        OCI_LAYER_TAR_GZIP,
        OCI_LAYER_TAR_ZSTD,
        OCI_LAYER_NONDIST_TAR,
        OCI_LAYER_NONDIST_TAR_GZIP,
        OCI_LAYER_NONDIST_TAR_ZSTD,
    }
)
# Layers whose content may legitimately live elsewhere (descriptor "urls"), so a registry may lack them (the
# spec's exception): Docker's foreign layers and OCI's non-distributable ones, whatever their compression.
NON_DISTRIBUTABLE_MARKERS: tuple[str, ...] = ("nondistributable", "foreign")


def is_non_distributable(media_type: str) -> bool:
    return any(marker in media_type for marker in NON_DISTRIBUTABLE_MARKERS)


def normalize_content_type(value: str | None) -> str:
    """Strip parameters (";charset=utf-8") and whitespace, lowercase; "" when absent."""
    if not value or not isinstance(value, str):
        return ""
    return value.split(";", 1)[0].strip().lower()
