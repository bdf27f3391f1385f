"""The periodic reconciler: a build whose worker stopped beating ends failed (or cancelled, if that
was asked), never "running" for ever; a queued build whose message may have been lost is sent again."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from builds.credentials import build_credentials_revoke_all
from builds.models import BuildJob
from builds.services.jobs import build_enqueue, build_files_drop, staging_tag
from builds.services.logs import LogWriter, build_log_archive
from builds.services.publish import build_staging_drop

logger = logging.getLogger(__name__)
Status = BuildJob.Status


def builds_reconcile(*, stale_after: float | None = None, requeue_after: float | None = None) -> dict[str, list[int]]:
    stale_after = settings.BUILD_STALE_SECONDS if stale_after is None else stale_after
    requeue_after = stale_after * 5 if requeue_after is None else requeue_after
    now = timezone.now()
    cutoff = now - timedelta(seconds=stale_after)
    outcome: dict[str, list[int]] = {"failed": [], "cancelled": [], "resent": []}
    stale = BuildJob.objects.filter(status__in=BuildJob.ACTIVE).filter(
        Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, started__lt=cutoff)
    )
    for job in stale.order_by("pk"):
        status = Status.CANCELLED if job.cancel_requested else Status.FAILED
        message = (
            f"the worker {job.worker or ''} stopped answering (no heartbeat for {stale_after:.0f} s); "
            "the build was abandoned"
        ).replace("  ", " ")
        # Conditional on the heartbeat we saw: a worker that beat meanwhile keeps its build.
        ended = BuildJob.objects.filter(pk=job.pk, status=job.status, heartbeat=job.heartbeat).update(
            status=status, finished=now, error=message
        )
        if not ended:
            continue
        job.refresh_from_db()
        writer = LogWriter(job.pk)
        writer.line(f"build {status}: {message}")
        writer.flush()
        build_staging_drop(job=job, staging=staging_tag(job.pk))
        build_credentials_revoke_all(job=job)
        build_files_drop(job=job)
        build_log_archive(job=job)
        outcome[status].append(job.pk)
    lost = BuildJob.objects.filter(status=Status.QUEUED, enqueued__lt=now - timedelta(seconds=requeue_after))
    for job_id in lost.values_list("pk", flat=True):
        if BuildJob.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued=now):
            build_enqueue(job_id=job_id)  # a duplicate message finds the job claimed and does nothing
            outcome["resent"].append(job_id)
    if any(outcome.values()):
        logger.warning("build reconciler: %s", outcome)
    return outcome
