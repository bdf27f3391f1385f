"""Celery tasks for builds: thin, ids as keyword arguments, the job row holds the state.

acks_late is safe for both: a redelivered `builds.run` finds the job no longer queued and does
nothing, and reconciling twice changes nothing the first pass did not. Redis must not re-deliver
a build still running, so its visibility timeout exceeds BUILD_TIME_LIMIT_SECONDS (settings).
"""

from celery import shared_task
from django.conf import settings

from builds.services.reconcile import builds_reconcile
from builds.services.run import build_run


@shared_task(
    name="builds.run",
    bind=True,
    acks_late=True,
    # A backstop only: the build's own time limit stops it well before.
    time_limit=settings.BUILD_TIME_LIMIT_SECONDS + 900,
)
def run_build(self, *, build_id: int) -> str | None:
    job = build_run(job_id=build_id, worker=self.request.hostname or "")
    return job.status if job else None


@shared_task(name="builds.reconcile", acks_late=True)
def reconcile_builds() -> dict:
    return builds_reconcile()
