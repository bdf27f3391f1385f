"""Reads of promotion jobs and the audit ledger."""
from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from accounts.permissions import readable_repositories
from repos.models import PromotedDigest, PromotionJob


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
