"""Reads of promotion jobs and the audit ledger."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, Value, When

from accounts.permissions import readable_repositories
from repos.models import Blob, Manifest, ManifestLayer, ManifestListEntry, PromotedDigest, PromotionJob
from repos.oci.platforms import is_attestation, platform_label
from repos.selectors.platforms import platform_sort_key


def promotion_jobs_visible(*, user, digest: str = "", status: str = "", repository: str = "") -> QuerySet[PromotionJob]:
    """Jobs whose source and target the user may read, newest first, optionally narrowed.

    With `digest`, the ledger of that digest: the promotions that made it part of another repository.
    """
    readable = readable_repositories(user)
    jobs = PromotionJob.objects.filter(source_repository__in=readable, target_repository__in=readable)
    if digest:
        jobs = jobs.filter(pk__in=PromotedDigest.objects.filter(digest=digest).values("job_id"))
    if status:
        jobs = jobs.filter(status=status)
    if repository:
        jobs = jobs.filter(Q(source_key=repository) | Q(target_key=repository))
    return jobs.select_related("requested_by").order_by("-created", "-id")


def promotion_job_find(*, user, pk: int) -> PromotionJob | None:
    return promotion_jobs_visible(user=user).filter(pk=pk).first()


def promoted_digests(*, job: PromotionJob) -> QuerySet[PromotedDigest]:
    """Index first, then platform images, referrers and blobs."""
    Role = PromotedDigest.Role
    order = Case(*(When(role=role, then=Value(i)) for i, role in enumerate(Role.values)), default=Value(99))
    return PromotedDigest.objects.filter(job=job).order_by(order, "digest")


@dataclass
class LinkedContent:
    """A digest a promotion made part of its target, with what it is for."""

    role: str  # index | manifest | referrer | blob
    digest: str
    platform: str  # "" for an index; a blob's platforms, comma-separated
    size: int | None


def promotion_linked_content(*, job: PromotionJob) -> list[LinkedContent]:
    """The ledger lines of a job with platform and size, in a fixed number of queries."""
    lines = list(promoted_digests(job=job).values_list("role", "digest"))
    wanted = [digest for _, digest in lines]
    manifests = {
        m.digest: m
        for m in Manifest.objects.filter(digest__in=wanted).only(
            "digest", "media_type", "os", "architecture", "variant", "content_size", "size", "config_blob_id"
        )
    }
    platform_of: dict[str, str] = {}
    entries = ManifestListEntry.objects.filter(index__digest__in=wanted, manifest__digest__in=wanted)
    for digest, os_, arch, variant in entries.values_list("manifest__digest", "os", "architecture", "variant"):
        platform_of[digest] = "attestation" if is_attestation(os_, arch) else platform_label(os_, arch, variant)
    for digest, manifest in manifests.items():
        if not manifest.is_index and digest not in platform_of:
            platform_of[digest] = platform_label(manifest.os, manifest.architecture, manifest.variant)
    blobs = {
        digest: (pk, size)
        for pk, digest, size in Blob.objects.filter(digest__in=wanted).values_list("pk", "digest", "size")
    }
    blob_platforms: dict[str, set[str]] = defaultdict(set)
    digest_of_blob = {pk: digest for digest, (pk, _) in blobs.items()}
    for manifest in manifests.values():
        if manifest.config_blob_id in digest_of_blob and platform_of.get(manifest.digest):
            blob_platforms[digest_of_blob[manifest.config_blob_id]].add(platform_of[manifest.digest])
    layers = ManifestLayer.objects.filter(blob_id__in=list(digest_of_blob), manifest__digest__in=list(manifests))
    for blob_id, manifest_digest in layers.values_list("blob_id", "manifest__digest"):
        if platform_of.get(manifest_digest):
            blob_platforms[digest_of_blob[blob_id]].add(platform_of[manifest_digest])
    linked = []
    for role, digest in lines:
        if digest in blobs:
            platforms = ", ".join(sorted(blob_platforms.get(digest, ()), key=platform_sort_key))
            linked.append(LinkedContent(role, digest, platforms, blobs[digest][1]))
        else:
            listed = manifests.get(digest)
            linked.append(
                LinkedContent(
                    role,
                    digest,
                    platform_of.get(digest, ""),
                    listed.content_size or listed.size if listed else None,
                )
            )
    return linked


def promotion_resulting_tags(*, job: PromotionJob) -> list[dict]:
    """The tags a succeeded job gave its target (index tags first, each followed by its per-platform tags)."""
    if job.status != PromotionJob.Status.SUCCEEDED:
        return []
    return [change for change in (job.result or {}).get("tags", []) if change.get("target_tag")]
