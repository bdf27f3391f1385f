"""A repository: its images; its settings for repository admins."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from accounts.permissions import ADMIN, user_can
from repos.forms import RepositorySettingsForm
from repos.selectors_dashboard.images import image_summaries, repository_images
from repos.services.repository_settings import repository_update_settings
from repos.views.common import paginate, render_with_partial, repository_or_404


def repository_detail(request, key: str):
    repository = repository_or_404(request, key)
    query = request.GET.get("q", "").strip()[:200]
    page = paginate(request, repository_images(repository=repository, name=query))
    context = {
        "repository": repository,
        "query": query,
        "page": page,
        "summaries": image_summaries(list(page.object_list)),
        "can_admin": user_can(request.user, repository, ADMIN),
    }
    return render_with_partial(request, "repos/repository.html", "partials/_images_table.html", context)


def repository_settings(request, key: str):
    repository = repository_or_404(request, key)
    if not user_can(request.user, repository, ADMIN):
        raise PermissionDenied("Changing a repository's settings needs the admin permission on it.")
    form = RepositorySettingsForm(request.POST or None, repository=repository)
    if request.method == "POST" and form.is_valid():
        repository_update_settings(repository=repository, user=request.user, **form.cleaned_data)
        messages.success(request, f"Settings of {repository.key} saved.")
        return redirect("repository", key=repository.key)
    return render(request, "repos/repository_settings.html", {"repository": repository, "form": form})
