"""The security audit log. Never pass a password or a token secret in `detail`."""

from __future__ import annotations

import logging

from accounts.models import AuditEvent

logger = logging.getLogger("accounts.audit")


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *, action: str, actor=None, actor_name: str = "", request=None, target: str = "", detail: dict | None = None
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    name = actor_name or (actor.get_username() if actor is not None else "")
    event = AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_name=name[:150],
        target=target[:255],
        ip_address=client_ip(request),
        detail=detail or {},
    )
    logger.info("audit %s actor=%s target=%s", action, name or "-", target or "-")
    return event
