"""Repositories: the list, one repository's images, create / settings / delete pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from accounts.permissions import ADMIN, is_site_admin, user_can
from config.errors import show_on_form
from repos.forms import RepositoryDeleteForm, RepositoryForm
from repos.selectors.images import image_summaries, repository_images
from repos.selectors.repositories import repository_counts, repository_readable_or_404, repository_rows
from repos.selectors.virtual import virtual_members
from repos.services import repositories as repository_services
from repos.views.common import paginate, readable, render_with_partial


def repository_list(request):
    rows = repository_rows(repositories=readable(request), user=request.user)
    return render(
        request,
        "repos/repositories.html",
        {
            "rows": rows,
            "can_create": is_site_admin(request.user),
        },
    )


def repository_detail(request, key: str):
    repository = repository_readable_or_404(user=request.user, key=key)
    query = request.GET.get("q", "").strip()[:200]
    page = paginate(request, repository_images(repository=repository, name=query))
    context = {
        "repository": repository,
        "query": query,
        "page": page,
        "summaries": image_summaries(list(page.object_list)),
        "can_admin": user_can(request.user, repository, ADMIN),
        "can_delete": is_site_admin(request.user),
        "remote": getattr(repository, "remote", None) if repository.is_remote else None,
        "members": virtual_members(repository=repository) if repository.is_virtual else [],
    }
    return render_with_partial(request, "repos/repository.html", "partials/_images_table.html", context)


def repository_create(request):
    if not is_site_admin(request.user):
        raise PermissionDenied("Creating repositories needs a site admin.")
    form = RepositoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            repository = repository_services.repository_create(
                user=request.user, data=form.service_data(), request=request
            )
        except repository_services.RepositoryInvalid as exc:
            show_on_form(form, exc)
        else:
            messages.success(request, f"Repository {repository.key} created.")
            return redirect("repository", key=repository.key)
    return render(request, "repos/repository_form.html", {"form": form, "repository": None})


def repository_settings(request, key: str):
    repository = repository_readable_or_404(user=request.user, key=key)
    if not user_can(request.user, repository, ADMIN):
        raise PermissionDenied("Changing a repository's settings needs the admin permission on it.")
    site_admin = is_site_admin(request.user)
    form = RepositoryForm(request.POST or None, repository=repository, site_admin=site_admin)
    if request.method == "POST" and form.is_valid():
        try:
            repository_services.repository_update(
                repository=repository, user=request.user, data=form.service_data(), request=request
            )
        except repository_services.RepositoryInvalid as exc:
            show_on_form(form, exc)
        else:
            messages.success(request, f"Settings of {repository.key} saved.")
            return redirect("repository", key=repository.key)
    return render(
        request,
        "repos/repository_form.html",
        {
            "form": form,
            "repository": repository,
            "can_delete": site_admin,
        },
    )


def repository_delete(request, key: str):
    repository = repository_readable_or_404(user=request.user, key=key)
    if not is_site_admin(request.user):
        raise PermissionDenied("Deleting repositories needs a site admin.")
    counts = repository_counts(repository=repository)
    holds_content = repository_services.repository_has_content(repository)
    form = RepositoryDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        typed = form.cleaned_data["confirm_key"].strip()
        if holds_content and typed != repository.key:
            form.add_error("confirm_key", f"Type {repository.key} to delete it with its images.")
        else:
            repository_services.repository_delete(
                repository=repository, user=request.user, force=holds_content, request=request
            )
            messages.success(request, f"Repository {repository.key} deleted.")
            return redirect("repositories")
    return render(
        request,
        "repos/repository_delete.html",
        {
            "repository": repository,
            "form": form,
            "counts": counts,
            "holds_content": holds_content,
        },
    )
