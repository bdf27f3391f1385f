"""Acknowledging alerts."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.permissions import user_can
from accounts.services.audit import audit_record
from insights.models import Alert


class AlertRefused(Exception):
    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


def alert_acknowledge(*, actor, alert_id: int, reason: str) -> Alert:
    """Mark an alert seen, with why; needs write access to its repository. Idempotent for an acknowledged one."""
    reason = (reason or "").strip()
    if not reason:
        raise AlertRefused("a reason is required to acknowledge an alert")
    if len(reason) > 2000:
        raise AlertRefused("the reason is longer than 2000 characters")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("repository").filter(pk=alert_id).first()
        if alert is None or not user_can(actor, alert.repository, "read"):
            raise AlertRefused("no such alert", status=404)
        if not user_can(actor, alert.repository, "write"):
            raise AlertRefused("acknowledging needs write access to the repository", status=403)
        if alert.acknowledged_at is None:
            alert.acknowledged_at = timezone.now()
            alert.acknowledged_by = actor
            alert.acknowledge_reason = reason
            alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledge_reason"])
            audit_record(action="alert.acknowledge", actor=actor, target=f"alert {alert.pk}", detail={"reason": reason})
    return alert
