"""Promotion: make an image's tags, manifests, referrers and blobs part of another repository.

Metadata only: rows linking existing manifests and blobs to the target are written; no blob byte is
read or copied, so the cost does not depend on the image size. Everything happens in one transaction
that first locks the source and target image rows, so two promotions into the same target serialize
and the target always ends in the state of one complete promotion.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from repos.models import Image, ImageManifest, PromotedDigest, PromotionJob, RepositoryBlob, Tag
from repos.promotion.domain import (
    PromotionInvalid,
    PromotionNotFound,
    PromotionPlan,
    PromotionRefused,
    PromotionRequest,
)
from repos.promotion.planning import plan_build, promotion_plan, repositories_resolve
from repos.promotion.rules import raise_if_pinned
from repos.services.manifests import tag_set

__all__ = [
    "JobNotRunning",
    "PromotionInvalid",
    "PromotionNotFound",
    "PromotionRefused",
    "PromotionRequest",
    "promotion_execute",
    "promotion_plan",
]


class JobNotRunning(Exception):
    """The job was taken back (by the reconciler) before this run could commit; nothing was changed."""


def running_attempt(job: PromotionJob) -> QuerySet[PromotionJob]:
    """The job's row while this attempt still runs it. Every write of a run goes through it, so an attempt
    the reconciler took back (re-queued or failed) changes nothing."""
    return PromotionJob.objects.filter(pk=job.pk, status=PromotionJob.Status.RUNNING, attempts=job.attempts)


def promotion_execute(*, request: PromotionRequest, user, job: PromotionJob | None = None) -> PromotionPlan:
    """Promote in one transaction; raises PromotionRefused (nothing changed) when a rule says no.

    With a job, its success and ledger lines are written in the same transaction, so a worker
    killed before the commit leaves the target untouched and the job still `running`.
    """
    request.validate()
    source, target = repositories_resolve(request, user=user)
    with transaction.atomic():
        if job is not None:
            _lock_running_job(job)
        source_image = Image.objects.filter(repository=source, name=request.source_image).first()
        if source_image is None:
            raise_if_pinned(request)
            raise PromotionNotFound(
                f"image {request.source_image!r} not found in {source.key}", detail={"image": request.source_image}
            )
        target_image, _ = Image.objects.get_or_create(repository=target, name=request.target_image_name)
        # Primary-key order, so a promotion A -> B and one B -> A cannot deadlock.
        both = Image.objects.select_for_update().filter(pk__in={source_image.pk, target_image.pk}).order_by("pk")
        locked = {image.pk: image for image in both}
        plan = plan_build(
            request=request,
            user=user,
            source=source,
            target=target,
            source_image=locked[source_image.pk],
            target_image=locked[target_image.pk],
        )
        if not plan.allowed:
            raise PromotionRefused(plan)
        _apply(
            plan, user=user, promotion=job, source_image=locked[source_image.pk], target_image=locked[target_image.pk]
        )
        if job is not None:
            _record_success(job, plan)
    return plan


def _lock_running_job(job: PromotionJob) -> None:
    # Holding this row lock for the whole transaction tells the reconciler the job is alive.
    if not running_attempt(job).select_for_update().exists():
        raise JobNotRunning(job.pk)


def _apply(
    plan: PromotionPlan, *, user, promotion: PromotionJob | None, source_image: Image, target_image: Image
) -> None:
    RepositoryBlob.objects.bulk_create(
        [RepositoryBlob(repository=plan.target_repository, blob_id=pk) for pk in plan.blob_ids],
        ignore_conflicts=True,
    )
    ImageManifest.objects.bulk_create(
        [ImageManifest(image=target_image, manifest_id=pk, pushed_by=user) for pk in plan.manifest_ids],
        ignore_conflicts=True,
    )
    by_primary: dict[str, list] = {}
    for change in plan.tags:
        by_primary.setdefault(change.derived_from or change.target_tag, []).append(change)
    for target_name, manifest in plan.primaries:
        changes = by_primary.get(target_name, [])
        drops_derived = target_name in plan.removed_parents.values()
        if changes and all(c.action == "unchanged" for c in changes) and not drops_derived:
            continue  # already there, exactly: leave the rows (and an immutable tag) alone
        tag_set(image=target_image, name=target_name, manifest=manifest, user=user, promotion=promotion)
    if not plan.request.copy:
        _remove_from_source(plan, image=source_image)
    Image.objects.filter(pk=target_image.pk).update(last_pushed=timezone.now())


def _remove_from_source(plan: PromotionPlan, *, image: Image) -> None:
    Tag.objects.filter(image=image, name__in=plan.removed_from_source).delete()
    if plan.unlinked_from_source:
        ImageManifest.objects.filter(image=image, manifest__digest__in=plan.unlinked_from_source).delete()
    if plan.source_image_removed:
        image.delete()


def _record_success(job: PromotionJob, plan: PromotionPlan) -> None:
    result = plan.as_dict()
    updated = running_attempt(job).update(
        status=PromotionJob.Status.SUCCEEDED, finished=timezone.now(), result=result, error="", error_code=""
    )
    if not updated:
        raise JobNotRunning(job.pk)
    roles = dict(plan.manifests)
    roles.update({digest: PromotedDigest.Role.BLOB for digest in plan.blobs})
    PromotedDigest.objects.bulk_create(
        [PromotedDigest(job_id=job.pk, digest=digest, role=role) for digest, role in roles.items()],
        ignore_conflicts=True,
    )
