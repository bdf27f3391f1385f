"""Celery tasks: thin wrappers that call one service each."""

from celery import shared_task
from django.conf import settings

from repos.services.uploads import uploads_expire_stale


@shared_task(name="repos.expire_stale_uploads")
def expire_stale_uploads() -> int:
    return uploads_expire_stale(older_than_seconds=settings.REGISTRY_UPLOAD_EXPIRY_SECONDS)


# Promotion tasks live in their own module; importing it here lets autodiscovery register them.
from repos.promotion.tasks import reconcile_promotions, run_promotion  # noqa: E402,F401


@shared_task(name="repos.garbage_collect")
def garbage_collect(dry_run: bool = False, trigger: str = "schedule") -> int | None:
    from repos.services.gc import GcAlreadyRunning, gc_run

    try:
        return gc_run(dry_run=dry_run, trigger=trigger).pk
    except GcAlreadyRunning:
        return None


@shared_task(name="repos.apply_retention")
def apply_retention() -> int:
    from repos.services.retention import retention_apply_all

    return retention_apply_all()
