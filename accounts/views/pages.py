"""Browser pages: the caller's API tokens, and the audit log for site admins."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import PermissionDenied
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import errors
from accounts.forms import TokenForm
from accounts.models import AuditEvent
from accounts.permissions import is_site_admin
from accounts.selectors import audit_events, build_tokens_active_count, token_visible_find, tokens_own
from accounts.services import tokens as token_services
from accounts.services.login_throttle import LoginThrottled, login_throttle_check
from config.public_url import public_base_url
from repos.views.common import paginate


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST or None, user=request.user)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_secret = token_services.token_create(
                creator=request.user,
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
                repositories=list(form.cleaned_data["repositories"]),
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["expires_in_days"]),
                request=request,
            )
        except errors.AccountsError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenForm(user=request.user)
    context = {
        "form": form,
        "tokens": tokens_own(user=request.user, purpose="user"),
        "new_secret": new_secret,
        "build_tokens_active": build_tokens_active_count(user=request.user),
    }
    response = render(request, "accounts/tokens.html", context)
    response.headers["Cache-Control"] = "no-store"  # the page may show a secret once
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = token_visible_find(actor=request.user, pk=pk)
    if token is None:
        raise Http404
    token_services.token_revoke(actor=request.user, token=token, request=request)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("accounts-tokens")


@login_required
def audit_log(request):
    if not is_site_admin(request.user):
        raise PermissionDenied
    action = request.GET.get("action", "")
    page = paginate(request, audit_events(action=action))
    context = {"page": page, "action": action, "actions": AuditEvent.Action.choices}
    return render(request, "accounts/audit.html", context)


class PublicPasswordResetView(PasswordResetView):
    """The reset link in the e-mail points at PUBLIC_URL (else the checked request host), never at
    whatever Host header the requester sent."""

    def form_valid(self, form):
        scheme, _, domain = public_base_url(self.request).partition("://")
        self.extra_email_context = {**(self.extra_email_context or {}), "protocol": scheme, "domain": domain}
        return super().form_valid(form)


class ThrottledLoginView(LoginView):
    """Django's login page, refusing (429, Retry-After) once the account or the address has failed too often."""

    def post(self, request, *args, **kwargs):
        try:
            login_throttle_check(request=request, username=request.POST.get("username", ""))
        except LoginThrottled as exc:
            form = self.get_form()
            form._errors, form.cleaned_data = ErrorDict(), {}  # never validated: that would check the password
            form.add_error(None, f"Too many failed sign-ins. Try again in {exc.retry_after} seconds.")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return super().post(request, *args, **kwargs)
