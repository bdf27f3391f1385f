"""Helpers every dashboard page uses: what the user may read, pagination, htmx fragments."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import render

from accounts.permissions import readable_repositories
from repos.models import Image, Repository
from repos.selectors.manifests import image_find

PAGE_SIZE = 50


def readable(request) -> QuerySet[Repository]:
    return readable_repositories(request.user)


def image_or_404(request, key: str, name: str) -> Image:
    image = image_find(repositories=readable(request), key=key, name=name)
    if image is None:
        raise Http404("No such image")
    return image


def paginate(request, items, *, per_page: int = PAGE_SIZE, param: str = "page") -> Page:
    return Paginator(items, per_page).get_page(request.GET.get(param))


def is_htmx(request) -> bool:
    """An htmx request for a fragment (a history restore or a boosted link wants the whole page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render_with_partial(request, template: str, partial: str, context: dict):
    """The whole page, or only the fragment an htmx request asked for."""
    response = render(request, partial if is_htmx(request) else template, context)
    response.headers["Vary"] = "HX-Request"
    return response
