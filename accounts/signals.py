"""Browser and password logins reach the audit log (and failures the login throttle) through Django's auth signals."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import AuditEvent
from accounts.services.audit import audit_record
from accounts.services.login_throttle import login_failure_record


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
    login_failure_record(request=request, username=attempted)
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        request=request,
        target=f"user:{attempted}",
        detail={"channel": credentials.get("channel", "web")},
    )
