"""Dashboard pages: alerts (list, acknowledge), webhooks (register, delivery log, redeliver) and smoke tests
(the repository's test, edited from its settings page, and "run again" on a tag page)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.permissions import ADMIN, user_can
from config.errors import show_on_form
from insights import errors, selectors
from insights.forms import SmokeTestForm, WebhookForm, smoke_test_initial
from insights.services.alerts import alert_acknowledge
from insights.services.smoke_tests import smoke_test_delete, smoke_test_run_again, smoke_test_save
from insights.services.webhooks import delivery_redeliver, may_manage, webhook_create
from repos.selectors.repositories import repository_readable_or_404
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
    with _refusals_shown(request):
        alert = alert_acknowledge(actor=request.user, alert_id=pk, reason=request.POST.get("reason", ""))
        messages.success(request, f"Alert on {alert.image.name}:{alert.tag} acknowledged.")
    return _back(request, default="/alerts/")


@contextmanager
def _refusals_shown(request) -> Iterator[None]:
    """A button's action refused: an unknown object is a 404 page, a missing permission a 403 page, any other
    refusal a message on the page it goes back to."""
    try:
        yield
    except errors.NotFound as exc:
        raise Http404(exc.message) from None
    except errors.Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except errors.InsightsError as exc:
        messages.error(request, exc.message)


def _back(request, *, default: str):
    """Back to the page the button was on (`next`, when it is this site's), else to `default`."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = default
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
            show_on_form(form, exc)
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


@login_required
def smoke_test_settings(request, key: str):
    repository = repository_readable_or_404(user=request.user, key=key)
    if not user_can(request.user, repository, ADMIN):
        raise PermissionDenied("Changing the smoke test needs the admin permission on the repository.")
    test = selectors.smoke_test_of(repository=repository)
    form = SmokeTestForm(request.POST or None, initial=smoke_test_initial(test))
    if request.method == "POST":
        if "delete" in request.POST:
            smoke_test_delete(actor=request.user, repository=repository)
            messages.success(request, f"Smoke test of {repository.key} removed.")
            return redirect("repository-settings", key=repository.key)
        if form.is_valid():
            try:
                smoke_test_save(actor=request.user, repository=repository, data=form.cleaned_data)
            except errors.InsightsError as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, f"Smoke test of {repository.key} saved.")
                return redirect("repository-settings", key=repository.key)
    return render(
        request,
        "insights/smoke_test_settings.html",
        {"repository": repository, "form": form, "test": test},
    )


@login_required
@require_POST
def smoke_test_run_again_view(request):
    post = request.POST
    with _refusals_shown(request):
        run = smoke_test_run_again(
            actor=request.user,
            repository_key=post.get("repository", ""),
            image=post.get("image", ""),
            tag=post.get("tag", ""),
        )
        messages.success(request, f"Smoke test run #{run.pk} queued for {run.image.name}:{run.tag}.")
    return _back(request, default="/")
