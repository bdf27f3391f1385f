"""Webhook deliveries as Celery jobs: the database row holds the state, the broker only "deliver row N"."""

from celery import shared_task
from django.conf import settings

from insights.models import WebhookDelivery
from insights.selectors import webhook_delivery_pending
from insights.services.webhooks import delivery_attempt


@shared_task(bind=True, name="insights.webhook_deliver", max_retries=None)
def webhook_deliver(self, delivery_id: int) -> None:
    delivery = webhook_delivery_pending(pk=delivery_id)
    if delivery is None:
        return
    if delivery_attempt(delivery):
        return
    if delivery.status == WebhookDelivery.Status.RETRYING:
        # Exponential backoff: base, 2×base, 4×base, … capped at an hour.
        countdown = min(3600, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1))
        raise self.retry(countdown=countdown)


@shared_task(name="insights.smoke_test_run")
def smoke_test_run(run_id: int) -> None:
    from insights.services.smoke_runs import smoke_test_run_execute

    smoke_test_run_execute(run_id=run_id)


@shared_task(name="insights.smoke_tests_reconcile")
def smoke_tests_reconcile() -> None:
    from insights.services.smoke_runs import smoke_runs_reconcile

    smoke_runs_reconcile()
