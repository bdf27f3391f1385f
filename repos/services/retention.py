"""Tag retention per repository: keep the newest N tags matching a pattern, drop those older than D days.

`retention_plan` lists exactly the tags a run would remove; `retention_apply` removes that list
(recomputed under the image locks, and refused when it no longer equals the preview the caller
saw), so a preview and the run that follows it always agree. Per-platform tags follow their index
tag and are never counted on their own. Protected unless the policy says otherwise: every tag of a
repository with immutable tags, and tags whose manifest a later stage (a repository with a higher
stage order) holds under the same image name. The manifests and blobs left untagged are reclaimed
by garbage collection once older than its untagged age.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from repos.errors import RegistryError
from repos.models import Image, Repository, RepositoryPolicy, RetentionRun, Tag


class RetentionPreviewOutdated(RegistryError):
    """The tags to remove changed since the preview the caller confirmed; the detail carries the new one."""

    code = "PREVIEW_OUTDATED"
    status = 409
    message = "the tags retention would remove changed since the preview; preview again"

    def __init__(self, plan: RetentionPlan):
        super().__init__(detail={"preview": plan.as_dict()})
        self.plan = plan


@dataclass
class RetentionPlan:
    repository: Repository
    remove: list[dict] = field(default_factory=list)  # {"image", "tag", "digest", "updated"}
    protected: list[dict] = field(default_factory=list)  # {"image", "tag", "reason"}
    kept: int = 0

    @property
    def keys(self) -> list[str]:
        return [f"{item['image']}:{item['tag']}@{item['digest']}" for item in self.remove]

    def as_dict(self) -> dict:
        return {
            "repository": self.repository.key,
            "remove": self.remove,
            "protected": self.protected,
            "kept": self.kept,
            "keys": self.keys,
        }


def retention_policy(*, repository: Repository) -> RepositoryPolicy:
    policy = RepositoryPolicy.objects.filter(repository=repository).first()
    return policy or RepositoryPolicy(repository=repository)


def repository_policy_update(*, repository: Repository, **fields) -> RepositoryPolicy:
    allowed = {f.name for f in RepositoryPolicy._meta.fields} - {"id", "repository", "updated"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown policy fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        policy, _ = RepositoryPolicy.objects.select_for_update().get_or_create(repository=repository)
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.save()
    return policy


def retention_plan(*, repository: Repository, policy: RepositoryPolicy | None = None) -> RetentionPlan:
    policy = policy or retention_policy(repository=repository)
    plan = RetentionPlan(repository=repository)
    if not policy.retention_configured:
        return plan
    pattern = policy.retention_tag_pattern or "*"
    cutoff = (
        timezone.now() - timedelta(days=policy.retention_max_age_days)
        if policy.retention_max_age_days is not None
        else None
    )
    held_later = set() if policy.retention_include_promoted else _held_by_later_stages(repository)
    immutable = repository.tag_immutability and not policy.retention_include_immutable
    tags = (
        Tag.objects.filter(image__repository=repository, derived_from__isnull=True)
        .select_related("image", "manifest")
        .order_by("image__name", "-updated", "-id")
    )
    by_image: dict[str, list[Tag]] = {}
    for tag in tags:
        if fnmatch.fnmatchcase(tag.name, pattern):
            by_image.setdefault(tag.image.name, []).append(tag)
    for image_name, candidates in by_image.items():
        keep_newest = policy.retention_keep_newest
        for position, tag in enumerate(candidates):
            if keep_newest is not None and position < keep_newest:
                plan.kept += 1
                continue
            if cutoff is not None and tag.updated >= cutoff:
                plan.kept += 1
                continue
            reason = None
            if immutable:
                reason = "immutable"
            elif (image_name, tag.manifest.digest) in held_later:
                reason = "held by a later stage"
            if reason:
                plan.protected.append({"image": image_name, "tag": tag.name, "reason": reason})
                continue
            plan.remove.append(
                {
                    "image": image_name,
                    "tag": tag.name,
                    "digest": tag.manifest.digest,
                    "updated": tag.updated.isoformat(),
                }
            )
    return plan


def retention_apply(*, repository: Repository, expected: list[str] | None = None, user=None) -> RetentionRun:
    """Remove the planned tags in one transaction; with `expected` (a preview's keys) only if unchanged."""
    with transaction.atomic():
        images = list(Image.objects.select_for_update().filter(repository=repository).order_by("pk"))
        plan = retention_plan(repository=repository)
        if expected is not None and sorted(expected) != sorted(plan.keys):
            raise RetentionPreviewOutdated(plan)
        by_name = {image.name: image for image in images}
        for item in plan.remove:
            # Deleting an index tag takes its per-platform tags along (derived_from cascades).
            Tag.objects.filter(image=by_name[item["image"]], name=item["tag"], manifest__digest=item["digest"]).delete()
        run = RetentionRun.objects.create(
            repository=repository,
            removed=plan.remove,
            skipped=plan.protected,
            requested_by_name=getattr(user, "username", "") or "",
        )
    return run


def retention_apply_all() -> int:
    """Scheduled: apply every enabled policy. Returns the number of tags removed."""
    removed = 0
    for policy in RepositoryPolicy.objects.filter(retention_enabled=True).select_related("repository"):
        removed += len(retention_apply(repository=policy.repository).removed)
    return removed


def _held_by_later_stages(repository: Repository) -> set[tuple[str, str]]:
    later = Repository.objects.filter(stage_order__gt=repository.stage_order)
    return set(Tag.objects.filter(image__repository__in=later).values_list("image__name", "manifest__digest"))
