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
    # The breadcrumb leads back to the image in the earliest stage that holds it.
    holding = {cell.repository for row in grid.rows for cell in row.cells if cell.present}
    first_stage = next((repository.key for repository in grid.repositories if repository.key in holding), None)
    context = {"grid": grid, "page": grid.page, "legend": LEGEND, "first_stage": first_stage}
    return render(request, "repos/stages.html", context)
