"""Acknowledging alerts."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.permissions import user_can
from accounts.services.audit import audit_record
from insights import errors
from insights.models import Alert


def alert_acknowledge(*, actor, alert_id: int, reason: str) -> Alert:
    """Mark an alert seen, with why; needs write access to its repository. Idempotent for an acknowledged one."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.InvalidRequest("a reason is required to acknowledge an alert")
    if len(reason) > 2000:
        raise errors.InvalidRequest("the reason is longer than 2000 characters")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("repository").filter(pk=alert_id).first()
        if alert is None or not user_can(actor, alert.repository, "read"):
            raise errors.NotFound("no such alert")
        if not user_can(actor, alert.repository, "write"):
            raise errors.Forbidden("acknowledging needs write access to the repository")
        if alert.acknowledged_at is None:
            alert.acknowledged_at = timezone.now()
            alert.acknowledged_by = actor
            alert.acknowledge_reason = reason
            alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledge_reason"])
            audit_record(action="alert.acknowledge", actor=actor, target=f"alert {alert.pk}", detail={"reason": reason})
    return alert
