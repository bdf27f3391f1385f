"""Dashboard pages: alerts (list, acknowledge) and webhooks (register, delivery log, redeliver)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.permissions import user_can
from insights import errors, selectors
from insights.forms import WebhookForm
from insights.services.alerts import alert_acknowledge
from insights.services.webhooks import delivery_redeliver, may_manage, webhook_create
from repos.views.common import paginate


def alert_list(request):
    state = request.GET.get("state", "open")
    alerts = selectors.alerts_filtered(
        request.user,
        repository=request.GET.get("repository", ""),
        image=request.GET.get("image", ""),
        kind=request.GET.get("kind", ""),
        state=state if state in ("open", "acknowledged") else "",
    )
    page = paginate(request, alerts, per_page=50)
    repositories = {alert.repository_id: alert.repository for alert in page.object_list}
    writable = {pk for pk, repository in repositories.items() if user_can(request.user, repository, "write")}
    return render(
        request,
        "insights/alerts.html",
        {
            "current": "alerts",
            "page": page,
            "state": state,
            "writable": writable,
        },
    )


@login_required
@require_POST
def alert_acknowledge_view(request, pk: int):
    try:
        alert = alert_acknowledge(actor=request.user, alert_id=pk, reason=request.POST.get("reason", ""))
        messages.success(request, f"Alert on {alert.image.name}:{alert.tag} acknowledged.")
    except errors.NotFound as exc:
        raise Http404(exc.message) from None
    except errors.Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except errors.InsightsError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/alerts/"
    return redirect(back)


@login_required
def webhook_list(request):
    repositories = selectors.repositories_administered(request.user)
    if not request.user.is_superuser and not repositories.exists():
        raise PermissionDenied("Webhooks are for site admins and repository admins.")
    form = WebhookForm(request.POST or None, repositories=repositories)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hook = webhook_create(
                actor=request.user,
                url=data["url"],
                events=data["events"],
                secret=data["secret"],
                repository=data["repository"],
                active=data["active"],
            )
        except errors.InsightsError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, f"Webhook {hook.url} registered.")
            return redirect("webhook", pk=hook.pk)
    return render(
        request,
        "insights/webhooks.html",
        {
            "current": "webhooks",
            "webhooks": selectors.webhooks_manageable(request.user),
            "form": form,
        },
    )


@login_required
def webhook_detail(request, pk: int):
    hook = get_object_or_404(selectors.webhooks_manageable(request.user), pk=pk)
    deliveries = selectors.webhook_deliveries(webhook=hook)
    return render(
        request,
        "insights/webhook.html",
        {
            "current": "webhooks",
            "hook": hook,
            "page": paginate(request, deliveries, per_page=25),
        },
    )


@login_required
@require_POST
def webhook_redeliver(request, pk: int, delivery_pk: int):
    hook = get_object_or_404(selectors.webhooks_manageable(request.user), pk=pk)
    delivery = selectors.webhook_delivery_find(webhook=hook, pk=delivery_pk)
    if delivery is None:
        raise Http404("No such delivery")
    if not may_manage(request.user, hook.repository):
        raise PermissionDenied("Webhooks are for site admins and repository admins.")
    again = delivery_redeliver(actor=request.user, delivery=delivery)
    messages.success(request, f"Redelivery {again.delivery_id} queued.")
    return redirect("webhook", pk=hook.pk)
