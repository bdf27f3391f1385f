"""What garbage collection would remove, computed in memory from a handful of whole-table reads.

Reachability is per image (a repository's name): tags are the roots, and so are untagged
manifests younger than the untagged age; an index reaches its children, a manifest reaches its
referrers (manifests whose `subject` it is). A manifest row is kept while any image still holds
it, while a kept index lists it, or while it is younger than the grace window. A blob is kept
while a kept manifest uses it (config or layer) or while it was touched inside the grace window.
Bytes in the store without any blob row (left by a crash) go once older than the grace window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from repos.models import Blob, ImageManifest, Manifest, ManifestLayer, ManifestListEntry, Tag
from repos.oci import media_types
from repos.storage import get_blob_store


@dataclass
class GcPlan:
    grace_cutoff: datetime
    untagged_cutoff: datetime
    # image id -> membership ids (untagged manifests to drop from that image)
    memberships: dict[int, list[int]] = field(default_factory=dict)
    manifest_ids: list[int] = field(default_factory=list)  # indexes first, so children are free when reached
    blob_ids: list[int] = field(default_factory=list)
    orphans: dict[str, int] = field(default_factory=dict)  # digest -> size of bytes without a row
    stored_sizes: dict[str, int] = field(default_factory=dict)  # digest -> size in the store
    blob_digests: dict[int, str] = field(default_factory=dict)  # of the blobs to remove
    manifest_digests: dict[int, str] = field(default_factory=dict)  # of the manifests to remove

    @property
    def membership_count(self) -> int:
        return sum(len(ids) for ids in self.memberships.values())

    @property
    def bytes_reclaimable(self) -> int:
        blob_bytes = sum(self.stored_sizes.get(d, 0) for d in self.blob_digests.values())
        return blob_bytes + sum(self.orphans.values())


def gc_plan_build(*, grace_seconds: int, untagged_age_seconds: int) -> GcPlan:
    now = timezone.now()
    plan = GcPlan(
        grace_cutoff=now - timedelta(seconds=grace_seconds),
        untagged_cutoff=now - timedelta(seconds=untagged_age_seconds),
    )
    # The store is listed first: a blob committed after this listing has a row younger than the cutoff.
    stored = {entry.digest: entry for entry in get_blob_store().iter_entries()}
    plan.stored_sizes = {digest: entry.size for digest, entry in stored.items()}

    manifests = {
        pk: (digest, subject, created, media_type in media_types.INDEX_TYPES, config_blob_id)
        for pk, digest, subject, created, media_type, config_blob_id in Manifest.objects.values_list(
            "pk", "digest", "subject_digest", "created", "media_type", "config_blob_id"
        ).iterator()
    }
    children: dict[int, list[int]] = defaultdict(list)
    for index_id, child_id in ManifestListEntry.objects.values_list("index_id", "manifest_id").iterator():
        children[index_id].append(child_id)
    referrers: dict[str, list[int]] = defaultdict(list)
    for pk, (_, subject, *_rest) in manifests.items():
        if subject:
            referrers[subject].append(pk)

    surviving = _plan_memberships(plan, manifests, children, referrers)
    kept_manifests = _plan_manifests(plan, manifests, children, surviving)
    _plan_blobs(plan, manifests, kept_manifests, stored)
    return plan


def _plan_memberships(plan: GcPlan, manifests, children, referrers) -> set[int]:
    """Fills plan.memberships; returns the manifest ids some image still holds afterwards."""
    members: dict[int, dict[int, tuple[int, datetime]]] = defaultdict(dict)
    for pk, image_id, manifest_id, pushed_at in ImageManifest.objects.values_list(
        "pk", "image_id", "manifest_id", "pushed_at"
    ).iterator():
        members[image_id][manifest_id] = (pk, pushed_at)
    tagged: dict[int, set[int]] = defaultdict(set)
    for image_id, manifest_id in Tag.objects.values_list("image_id", "manifest_id").iterator():
        tagged[image_id].add(manifest_id)

    surviving: set[int] = set()
    for image_id, present in members.items():
        roots = [
            m for m, (_, pushed_at) in present.items() if m in tagged[image_id] or pushed_at >= plan.untagged_cutoff
        ]
        reached = set(roots)
        stack = list(roots)
        while stack:
            current = stack.pop()
            reach = list(children.get(current, ()))
            info = manifests.get(current)
            if info is not None:
                reach.extend(referrers.get(info[0], ()))
            for nxt in reach:
                if nxt in present and nxt not in reached:
                    reached.add(nxt)
                    stack.append(nxt)
        surviving |= reached
        doomed = [present[m][0] for m in present if m not in reached]
        if doomed:
            plan.memberships[image_id] = doomed
    return surviving


def _plan_manifests(plan: GcPlan, manifests, children, surviving: set[int]) -> set[int]:
    kept = {pk for pk, info in manifests.items() if pk in surviving or info[2] >= plan.grace_cutoff}
    stack = list(kept)
    while stack:  # a kept index keeps its children (the rows reference them)
        for child in children.get(stack.pop(), ()):
            if child not in kept:
                kept.add(child)
                stack.append(child)
    doomed = [pk for pk in manifests if pk not in kept]
    doomed.sort(key=lambda pk: (not manifests[pk][3], pk))
    plan.manifest_ids = doomed
    plan.manifest_digests = {pk: manifests[pk][0] for pk in doomed}
    return kept


def _plan_blobs(plan: GcPlan, manifests, kept_manifests: set[int], stored) -> None:
    used = {manifests[pk][4] for pk in kept_manifests if manifests[pk][4] is not None}
    for manifest_id, blob_id in ManifestLayer.objects.values_list("manifest_id", "blob_id").iterator():
        if manifest_id in kept_manifests:
            used.add(blob_id)
    rows: set[str] = set()
    for pk, digest, touched in Blob.objects.values_list("pk", "digest", "touched").iterator():
        rows.add(digest)
        if pk not in used and touched < plan.grace_cutoff:
            plan.blob_ids.append(pk)
            plan.blob_digests[pk] = digest
    cutoff = plan.grace_cutoff.timestamp()
    plan.orphans = {
        digest: entry.size for digest, entry in stored.items() if digest not in rows and entry.modified < cutoff
    }
