"""Webhooks: registering them, queueing deliveries for events, and sending one signed attempt.

A delivery body is JSON; `X-Hub-Signature-256: sha256=<hex>` is HMAC-SHA256 of the exact body bytes
with the webhook's secret, `X-Registry-Delivery` a UUID that stays the same across retries of one
delivery (a receiver can drop duplicates), `X-Registry-Event` the event name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from accounts.permissions import is_site_admin, user_can
from accounts.services.audit import audit_record
from config.outbound import OutboundUrlRefused, outbound_url_check
from insights import errors
from insights.models import Webhook, WebhookAttempt, WebhookDelivery
from repos.models import Repository

EVENTS = tuple(Webhook.Event.values)


def may_manage(actor, repository: Repository | None) -> bool:
    """Site admins manage every webhook; repository admins those of their repository."""
    if is_site_admin(actor):
        return True
    return repository is not None and user_can(actor, repository, "admin")


def webhook_create(
    *, actor, url: str, events, secret: str, repository: Repository | None = None, active: bool = True
) -> Webhook:
    if not may_manage(actor, repository):
        raise errors.Forbidden("registering a webhook needs site admin, or admin on the repository")
    url = (url or "").strip()
    try:
        outbound_url_check(url, allow_private=settings.UPSTREAM_ALLOW_PRIVATE)
    except OutboundUrlRefused as exc:
        raise errors.InvalidRequest(f"url: {exc}", field="url") from None
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise errors.InvalidRequest(f"events: a non-empty list of {', '.join(EVENTS)}", field="events")
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise errors.InvalidRequest(f"events: unknown {', '.join(unknown)}; known: {', '.join(EVENTS)}", field="events")
    secret = secret or ""
    if not isinstance(secret, str) or len(secret) < 8 or len(secret) > 256:
        raise errors.InvalidRequest("secret: 8 to 256 characters", field="secret")
    webhook = Webhook.objects.create(
        url=url, events=sorted(set(events)), secret=secret, active=active, repository=repository, created_by=actor
    )
    audit_record(
        action="webhook.create",
        actor=actor,
        target=f"webhook {webhook.pk}",
        detail={"url": url, "repository": repository.key if repository else None},
    )
    return webhook


def webhook_delete(*, actor, webhook: Webhook) -> None:
    if not may_manage(actor, webhook.repository):
        raise errors.Forbidden("needs site admin, or admin on the repository")
    audit_record(action="webhook.delete", actor=actor, target=f"webhook {webhook.pk}", detail={"url": webhook.url})
    webhook.delete()


def event_dispatch(*, event: str, repository: Repository, payload: dict) -> list[WebhookDelivery]:
    """Queue one delivery per active webhook listening for `event` on `repository` (or on every one)."""
    hooks = Webhook.objects.filter(Q(repository=repository) | Q(repository__isnull=True), active=True)
    deliveries = []
    with transaction.atomic():
        for hook in hooks:
            if event not in hook.events:
                continue
            delivery_id = uuid.uuid4()
            body = {"event": event, "delivery": str(delivery_id), **payload}
            deliveries.append(
                WebhookDelivery.objects.create(
                    webhook=hook,
                    delivery_id=delivery_id,
                    event=event,
                    payload=body,
                )
            )
        for delivery in deliveries:
            _enqueue_after_commit(delivery.pk)
    return deliveries


def delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery (a new id) of the same payload."""
    if not may_manage(actor, delivery.webhook.repository):
        raise errors.Forbidden("needs site admin, or admin on the repository")
    delivery_id = uuid.uuid4()
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            webhook=delivery.webhook,
            delivery_id=delivery_id,
            event=delivery.event,
            payload={**delivery.payload, "delivery": str(delivery_id)},
            redelivery_of=delivery,
        )
        _enqueue_after_commit(again.pk)
    return again


def _enqueue_after_commit(delivery_pk: int) -> None:
    from insights.tasks import webhook_deliver

    transaction.on_commit(lambda: webhook_deliver.delay(delivery_pk))


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_attempt(delivery: WebhookDelivery) -> bool:
    """Send the delivery once and log the attempt; True when the receiver answered 2xx."""
    hook = delivery.webhook
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "registry-webhooks/1",
        "X-Registry-Event": delivery.event,
        "X-Registry-Delivery": str(delivery.delivery_id),
        "X-Hub-Signature-256": signature(hook.secret, body),
    }
    code, error = None, ""
    started = time.monotonic()
    try:
        # Checked again before every attempt: DNS may point elsewhere since the URL was saved.
        outbound_url_check(hook.url, allow_private=settings.UPSTREAM_ALLOW_PRIVATE)
        response = requests.post(
            hook.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except OutboundUrlRefused as exc:
        error = f"refused: {exc}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, response_code=code, duration_ms=duration_ms, error=error
    )
    delivery.response_code = code
    delivery.duration_ms = duration_ms
    delivery.error = error
    ok = not error
    if ok:
        delivery.status = WebhookDelivery.Status.DELIVERED
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
    else:
        delivery.status = WebhookDelivery.Status.RETRYING
    delivery.save(update_fields=["attempts", "response_code", "duration_ms", "error", "status", "updated"])
    return ok
