"""Storage/database consistency check: what a crash at any point must never leave behind."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields

from repos.models import Blob, ImageManifest, Manifest, ManifestLayer, ManifestListEntry, RepositoryBlob, Tag
from repos.oci import digests, media_types
from repos.storage import BlobNotFound, get_blob_store

READ_CHUNK = 1024 * 1024


@dataclass
class ConsistencyReport:
    blobs_checked: int = 0
    missing_blob_bytes: list[str] = field(default_factory=list)
    corrupt_blobs: list[str] = field(default_factory=list)
    size_mismatches: list[str] = field(default_factory=list)
    tags_without_membership: list[str] = field(default_factory=list)
    layers_without_blob_bytes: list[str] = field(default_factory=list)
    children_outside_image: list[str] = field(default_factory=list)

    def findings(self) -> dict[str, list[str]]:
        """Each kind of problem (the field's name) and what has it."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "blobs_checked"}

    @property
    def problems(self) -> int:
        return sum(len(found) for found in self.findings().values())


def consistency_check(*, rehash: bool = False) -> ConsistencyReport:
    """Every blob row has its bytes, of its stored size (hashing to its digest with `rehash`); every tag and index
    child is reachable."""
    report = ConsistencyReport()
    store = get_blob_store()
    # Non-distributable (foreign) layers are legitimately absent; every other layer must have bytes.
    stored = ManifestLayer.objects.all()
    for marker in media_types.NON_DISTRIBUTABLE_MARKERS:
        stored = stored.exclude(media_type__contains=marker)
    stored_layers = set(stored.values_list("blob__digest", flat=True))
    foreign_only = set(ManifestLayer.objects.values_list("blob__digest", flat=True)) - stored_layers
    # A row reserved by an upload that died before its bytes landed is invisible (no repository links
    # it, no manifest uses it) and garbage collection removes it: not a problem.
    visible = set(RepositoryBlob.objects.values_list("blob__digest", flat=True)) | stored_layers | foreign_only
    visible |= set(Manifest.objects.exclude(config_blob=None).values_list("config_blob__digest", flat=True))
    for digest, size in Blob.objects.values_list("digest", "size").iterator():
        report.blobs_checked += 1
        if digest not in visible:
            continue
        actual = store.size(digest)
        if actual is None:
            if digest in foreign_only:
                continue
            target = report.layers_without_blob_bytes if digest in stored_layers else report.missing_blob_bytes
            target.append(digest)
        elif actual != size:
            # What a pull would promise (Content-Length) is not what it would send.
            report.size_mismatches.append(f"{digest} stored size {size}, bytes {actual}")
        elif rehash and not _hashes_to(store, digest):
            report.corrupt_blobs.append(digest)
    members = set(ImageManifest.objects.values_list("image_id", "manifest_id"))
    for tag_id, image_id, manifest_id in Tag.objects.values_list("id", "image_id", "manifest_id"):
        if (image_id, manifest_id) not in members:
            report.tags_without_membership.append(str(tag_id))
    entries = ManifestListEntry.objects.filter(index__memberships__image_id__isnull=False).values_list(
        "index__memberships__image_id", "manifest_id", "manifest__digest"
    )
    for image_id, manifest_id, digest in entries:
        if (image_id, manifest_id) not in members:
            report.children_outside_image.append(digest)
    return report


def _hashes_to(store, digest: str) -> bool:
    hasher = hashlib.sha256()
    try:
        with store.open(digest) as handle:
            while chunk := handle.read(READ_CHUNK):
                hasher.update(chunk)
    except BlobNotFound:
        return False
    return digests.hasher_digest(hasher) == digest
