"""Uncompressed layer sizes, read once from the stored bytes and kept on the Blob row.

gzip keeps the uncompressed length (mod 2^32) in its last four bytes, so one seek answers for any layer under
4 GiB without decompressing; a plain tar is its own size. What cannot be told cheaply is stored as -1.
"""

from __future__ import annotations

import struct

from repos.models import Blob, ManifestLayer
from repos.oci import media_types
from repos.storage import get_blob_store

UNKNOWN = -1
_GZIP = {media_types.DOCKER_LAYER_TAR_GZIP, media_types.OCI_LAYER_TAR_GZIP, media_types.OCI_LAYER_NONDIST_TAR_GZIP}
_PLAIN = {media_types.OCI_LAYER_TAR, media_types.OCI_LAYER_NONDIST_TAR}
_GIB4 = 1 << 32


def manifests_uncompressed_size(*, manifest_ids: list[int]) -> dict[int, int | None]:
    """Each manifest's layers added up once decompressed (None when one cannot be told).

    One query once every layer has been looked at; layers seen for the first time are read and their
    size stored (one more query).
    """
    rows = list(
        ManifestLayer.objects.filter(manifest_id__in=manifest_ids).values_list(
            "manifest_id", "blob_id", "media_type", "blob__uncompressed_size", "blob__digest", "blob__size"
        )
    )
    found: dict[int, int] = {}
    store = None
    for _, blob_id, media_type, size, digest, compressed in rows:
        if size is None and blob_id not in found:
            store = store or get_blob_store()
            found[blob_id] = _uncompressed_size(store, digest, compressed, media_type)
    if found:
        Blob.objects.bulk_update(
            [Blob(pk=pk, uncompressed_size=size) for pk, size in found.items()], ["uncompressed_size"]
        )
    totals: dict[int, int | None] = {}
    for manifest_id, blob_id, _, size, _, _ in rows:
        size = found.get(blob_id, size)
        total = totals.get(manifest_id, 0)
        if size is None or size < 0:
            totals[manifest_id] = None
        elif total is not None:
            totals[manifest_id] = total + size
    return totals


def _uncompressed_size(store, digest: str, compressed: int | None, media_type: str) -> int:
    if compressed is None:
        return UNKNOWN
    if media_type in _PLAIN:
        return compressed
    if media_type not in _GZIP or compressed < 18 or compressed >= _GIB4:
        return UNKNOWN
    path = store.local_path(digest)
    if not path:
        return UNKNOWN
    try:
        with open(path, "rb") as handle:
            if handle.read(2) != b"\x1f\x8b":
                return UNKNOWN
            handle.seek(-4, 2)
            size = struct.unpack("<I", handle.read(4))[0]
    except OSError:
        return UNKNOWN
    # Smaller than its compressed form means the length wrapped past 4 GiB (or several gzip members).
    return size if size >= compressed - 64 else UNKNOWN
