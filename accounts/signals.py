"""Browser and password logins reach the audit log through Django's auth signals."""
from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import AuditEvent
from accounts.services.audit import audit_record


@receiver(user_logged_in, dispatch_uid="accounts-audit-login")
def _logged_in(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.LOGIN, actor=user, request=request, detail={"channel": "web"})


@receiver(user_logged_out, dispatch_uid="accounts-audit-logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditEvent.Action.LOGOUT, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts-audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; keep only the attempted name.
    attempted = str(credentials.get("username", ""))[:150]
    audit_record(action=AuditEvent.Action.LOGIN_FAILED, request=request, target=f"user:{attempted}",
                 detail={"channel": credentials.get("channel", "web")})
