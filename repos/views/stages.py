"""Stages side by side: one image's tags across the pipeline's repositories, with the next promotion."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from repos.selectors.stages import ABSENT, DIFFERENT, NEW, SAME, stage_grid
from repos.views.common import readable

LEGEND = [
    (SAME, "same digest as the previous stage"),
    (DIFFERENT, "another digest than the previous stage"),
    (NEW, "not in the previous stage"),
    (ABSENT, "not in this stage"),
]


def image_stages(request, name: str):
    grid = stage_grid(repositories=readable(request), image=name, page_number=request.GET.get("page"))
    if grid is None:
        raise Http404("No stage holds this image")
    return render(request, "repos/stages.html", {"grid": grid, "page": grid.page, "legend": LEGEND})
