"""Celery tasks for promotions: thin, ids as keyword arguments, the job row holds the state."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from repos.promotion.jobs import promotion_job_run, promotion_jobs_reconcile


# acks_late is safe here: a redelivered message finds the job no longer queued and does nothing.
@shared_task(name="repos.run_promotion", bind=True, acks_late=True, max_retries=3)
def run_promotion(self, *, job_id: int) -> str | None:
    try:
        job = promotion_job_run(job_id=job_id)
    except OperationalError as exc:
        # The job was put back in the queue; try again shortly (the reconciler is the fallback).
        raise self.retry(exc=exc, countdown=2**self.request.retries) from exc
    return job.status if job else None


@shared_task(name="repos.reconcile_promotions")
def reconcile_promotions() -> dict:
    return promotion_jobs_reconcile(stale_after=settings.PROMOTION_STALE_SECONDS)
