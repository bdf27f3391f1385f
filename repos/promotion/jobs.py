"""Promotion jobs: queue, run once, reconcile.

The job row is the truth. Every status change is a conditional UPDATE on the status (and the attempt
number), so a message delivered twice, a worker killed mid-run, or the reconciler racing a slow
worker can never apply a promotion twice or leave a job `running` for ever.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.permissions import acting_token, acting_token_set
from repos import errors
from repos.models import PromotionJob
from repos.promotion.execution import JobNotRunning, PromotionRequest, promotion_execute, running_attempt
from repos.promotion.planning import repositories_resolve
from repos.promotion.rules import source_unchanged_check

logger = logging.getLogger(__name__)
Status = PromotionJob.Status


def promotion_job_create(*, request: PromotionRequest, user) -> PromotionJob:
    """Record the request as a queued job; a worker is told once the row is committed."""
    job = _job_record(request=request, user=user, sent=True)
    _send(job.pk)
    return job


def promotion_job_run_here(*, request: PromotionRequest, user) -> PromotionJob:
    """Record the request as a job and run it in this process (`manage.py promote` without --queue): no worker
    is told, and the reconciler sends it to one only if this process dies before running it. The finished job."""
    job = _job_record(request=request, user=user, sent=False)
    return promotion_job_run(job_id=job.pk) or PromotionJob.objects.get(pk=job.pk)


def _job_record(*, request: PromotionRequest, user, sent: bool) -> PromotionJob:
    request.validate()
    source, target = repositories_resolve(request, user=user)
    source_unchanged_check(request, source)  # refused at once; the run checks again under its locks
    return PromotionJob.objects.create(
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_by_name=getattr(user, "username", "") or "",
        token_id=getattr(acting_token(user), "pk", None),
        source_repository=source,
        target_repository=target,
        source_key=source.key,
        target_key=target.key,
        source_image=request.source_image,
        target_image=request.target_image_name,
        source_tag=request.source_tag,
        target_tag=request.target_tag,
        copy=request.copy,
        expected_digests=request.expected_digests,
        enqueued=timezone.now() if sent else None,
    )


def promotion_job_request(job: PromotionJob) -> PromotionRequest:
    return PromotionRequest(
        source_key=job.source_key,
        source_image=job.source_image,
        target_key=job.target_key,
        target_image=job.target_image,
        source_tag=job.source_tag,
        target_tag=job.target_tag,
        copy=job.copy,
        expected_digests=job.expected_digests,
    )


def promotion_job_run(*, job_id: int) -> PromotionJob | None:
    """Claim a queued job and run it. A job that is not queued (already taken) is left alone: None."""
    claimed = PromotionJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        logger.info("promotion job %s is not queued; this delivery has nothing to do", job_id)
        return None
    job = PromotionJob.objects.select_related("requested_by").get(pk=job_id)
    try:
        _fill_remote_source(job)
        promotion_execute(request=promotion_job_request(job), user=_acting_user(job), job=job)
    except JobNotRunning:
        logger.warning("promotion job %s was taken back while running; its changes were rolled back", job_id)
    except errors.RegistryError as exc:
        result = exc.plan.as_dict() if hasattr(exc, "plan") else {"detail": exc.detail}
        _finish(job, status=Status.FAILED, code=exc.code, error=exc.message, result=result)
    except OperationalError:
        # Transient (lock timeout, lost connection): give the attempt back; the task retries.
        _requeue_or_fail(job, reason="database error", send=False)
        raise
    except Exception as exc:  # noqa: BLE001 - the job must end failed, whatever went wrong
        logger.exception("promotion job %s failed", job_id)
        _finish(job, status=Status.FAILED, code="INTERNAL_ERROR", error=f"{type(exc).__name__}: {exc}"[:2000])
    return PromotionJob.objects.get(pk=job_id)


def _fill_remote_source(job: PromotionJob) -> None:
    """A remote caches layers on first pull; a promotion copies rows into a local that must hold the
    bytes, so the worker fetches what the promoted tags still miss first (outside any transaction)."""
    from repos.models import Image
    from repos.promotion.planning import content_closure
    from repos.services.remote import remote_fill

    source = job.source_repository
    if source is None or not source.is_remote:
        return
    image = Image.objects.filter(repository=source, name=job.source_image).first()
    if image is None:
        return
    tags = image.tags.select_related("manifest")
    if job.source_tag:
        tags = tags.filter(name=job.source_tag)
    closure = content_closure(image=image, roots=[tag.manifest for tag in tags])
    remote_fill(repository=source, image_name=job.source_image, manifests=[m for m, _ in closure.values()])


def _acting_user(job: PromotionJob):
    """The requester as they acted: through the same API token, so the run never exceeds its scope."""
    user = job.requested_by
    if user is None or job.token_id is None:
        return user
    from accounts.models import ApiToken

    token = ApiToken.objects.filter(pk=job.token_id, user=user).first()
    if token is None:
        return None  # the token is gone: the request has no rights left
    acting_token_set(user, token)
    return user


def _finish(job: PromotionJob, *, status: str, code: str = "", error: str = "", result: dict | None = None) -> bool:
    return bool(
        running_attempt(job).update(
            status=status,
            finished=timezone.now(),
            error_code=code,
            error=error,
            result=result or {},
        )
    )


def _requeue_or_fail(job: PromotionJob, *, reason: str, send: bool = True) -> str:
    """Put a running job back in the queue, or fail it once it has used up its attempts."""
    running = running_attempt(job)
    if job.attempts >= settings.PROMOTION_MAX_ATTEMPTS:
        message = f"{reason}; gave up after {job.attempts} attempts"
        running.update(status=Status.FAILED, finished=timezone.now(), error_code="WORKER_LOST", error=message)
        return Status.FAILED
    if running.update(status=Status.QUEUED, enqueued=timezone.now()) and send:
        _send(job.pk)
    return Status.QUEUED


def promotion_jobs_reconcile(*, stale_after: float | None = None) -> dict[str, list[int]]:
    """Re-queue (or fail) jobs whose worker vanished, and re-send jobs whose message was lost.

    A running job is stale when it started long ago and, on PostgreSQL, nobody holds its row lock:
    a live run locks the row for its whole transaction, so `skip_locked` never takes a job that is
    still being worked on. (SQLite runs one writer at a time, so a live run blocks this instead.)
    """
    stale_after = settings.PROMOTION_STALE_SECONDS if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    outcome: dict[str, list[int]] = {"requeued": [], "failed": [], "resent": []}
    with transaction.atomic():
        stale = PromotionJob.objects.select_for_update(skip_locked=True).filter(
            status=Status.RUNNING, started__lt=cutoff
        )
        for job in stale:
            status = _requeue_or_fail(job, reason="the worker running this promotion stopped")
            outcome["requeued" if status == Status.QUEUED else "failed"].append(job.pk)
        # Queued and not sent for a while (message lost), or never sent (its creator died before running it).
        lost = PromotionJob.objects.filter(
            Q(enqueued__lt=cutoff) | Q(enqueued__isnull=True, created__lt=cutoff), status=Status.QUEUED
        ).exclude(pk__in=outcome["requeued"])
        for job_id in lost.values_list("pk", flat=True):
            if PromotionJob.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued=timezone.now()):
                _send(job_id)
                outcome["resent"].append(job_id)
    if any(outcome.values()):
        logger.warning("promotion reconciler: %s", outcome)
    return outcome


def promotion_job_wait(*, job: PromotionJob, timeout: float, interval: float = 0.1) -> PromotionJob:
    """Poll the job row until it is finished or the timeout passes; returns the latest row."""
    deadline = time.monotonic() + timeout
    while True:
        job = PromotionJob.objects.get(pk=job.pk)
        if job.is_terminal or time.monotonic() >= deadline:
            return job
        time.sleep(min(interval, max(deadline - time.monotonic(), 0)))
        interval = min(interval * 1.5, 1.0)


def _send(job_id: int) -> None:
    """Tell a worker once the row is committed. A broker that is down is logged, not raised: the job is
    queued in the database, and the reconciler sends it again once the broker is back."""
    from repos.promotion.tasks import run_promotion

    transaction.on_commit(lambda: run_promotion.delay(job_id=job_id), robust=True)
