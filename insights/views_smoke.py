"""Smoke test pages: the repository's test (edited from its settings page) and "run again" on a tag page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.permissions import ADMIN, user_can
from insights import errors, selectors
from insights.forms import SmokeTestForm, smoke_test_initial
from insights.services.smoke_tests import smoke_test_delete, smoke_test_run_again, smoke_test_save
from repos.selectors.repositories import repository_readable_or_404


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
                problems: list[tuple[str | None, list[str]]] = [*exc.errors.items()] or [(None, [exc.message])]
                for field, field_messages in problems:
                    for text in field_messages:
                        form.add_error(field if field in form.fields else None, text)
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
    try:
        run = smoke_test_run_again(
            actor=request.user,
            repository_key=post.get("repository", ""),
            image=post.get("image", ""),
            tag=post.get("tag", ""),
        )
    except errors.NotFound as exc:
        raise Http404(exc.message) from None
    except errors.Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    except errors.InsightsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Smoke test run #{run.pk} queued for {run.image.name}:{run.tag}.")
    back = post.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return redirect(back)
