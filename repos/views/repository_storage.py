"""A repository's storage, quota and retention: figures, rules, a preview and the run that removes it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import ADMIN, user_can
from repos.forms import RepositoryPolicyForm
from repos.selectors.repositories import repository_readable_or_404
from repos.selectors.storage import repository_storage
from repos.services.retention import (
    RetentionPreviewOutdated,
    repository_policy_update,
    retention_apply,
    retention_plan,
    retention_policy,
)


def repository_storage_page(request, key: str):
    repository = repository_readable_or_404(user=request.user, key=key)
    can_admin = user_can(request.user, repository, ADMIN)
    policy = retention_policy(repository=repository)
    form = RepositoryPolicyForm(request.POST or None, instance=policy, can_set_quota=request.user.is_superuser)
    if request.method == "POST":
        if not can_admin:
            raise PermissionDenied("Changing retention needs the admin permission on the repository.")
        if form.is_valid():
            repository_policy_update(repository=repository, **form.policy_fields())
            messages.success(request, f"Storage rules of {repository.key} saved.")
            return redirect("repository-storage", key=repository.key)
    context = {
        "repository": repository,
        "storage": repository_storage(repository=repository),
        "form": form,
        "can_admin": can_admin,
        "plan": retention_plan(repository=repository),
        "runs": repository.retention_runs.all()[:10],
    }
    return render(request, "repos/repository_storage.html", context)


@require_POST
def retention_run(request, key: str):
    repository = repository_readable_or_404(user=request.user, key=key)
    if not user_can(request.user, repository, ADMIN):
        raise PermissionDenied("Running retention needs the admin permission on the repository.")
    expected = request.POST.getlist("expected")
    try:
        run = retention_apply(repository=repository, expected=expected, user=request.user)
    except RetentionPreviewOutdated:
        messages.error(request, "The tags to remove changed since this preview; check the new preview.")
        return redirect("repository-storage", key=repository.key)
    messages.success(request, f"Retention removed {len(run.removed)} tag(s) from {repository.key}.")
    return redirect("repository-storage", key=repository.key)
