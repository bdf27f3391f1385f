"""Home: the repositories as a pipeline, storage, recent pushes, pushes over time, coverage summary."""

from __future__ import annotations

from itertools import groupby

from django.shortcuts import render
from django.urls import reverse

from repos.selectors import home as selectors
from repos.selectors.coverage import coverage_summary
from repos.selectors.platforms import platforms_of
from repos.services.aggregates import site_storage_current
from repos.templatetags.dashboard import human_bytes
from repos.views.charts import day_columns, horizontal_bars
from repos.views.common import paginate, readable

STORAGE_CHART_ROWS = 10


def home(request):
    repositories = readable(request)
    with_stats = selectors.repositories_with_stats(repositories=repositories)
    page = paginate(request, with_stats)
    page.object_list = list(page.object_list)
    by_storage = sorted(page.object_list, key=lambda r: r.storage, reverse=True)[:STORAGE_CHART_ROWS]
    storage_chart = horizontal_bars(
        [(r.key, r.storage, human_bytes(r.storage), reverse("repository", args=[r.key])) for r in by_storage]
    )
    pushes = selectors.pushes_per_day(repositories=repositories)
    if page.paginator.num_pages == 1:  # every repository on this page (the usual case): add its counts up
        images_total = sum(r.image_count for r in page.object_list)
        tags_total = sum(r.tag_count for r in page.object_list)
    else:
        images_total, tags_total = selectors.images_and_tags_total(repositories=with_stats)
    coverage = coverage_summary(repositories=repositories, images=images_total)
    recent = selectors.recent_pushes(repositories=repositories)
    recent_platforms = platforms_of(tag.manifest for tag in recent)
    context = {
        "page": page,
        # Stages left to right, so repositories read as a promotion pipeline.
        "pipeline": [(stage, list(group)) for stage, group in groupby(page.object_list, key=lambda r: r.stage or "")],
        "storage_total": selectors.storage_total(repositories=repositories, site_storage=site_storage_current),
        "storage_chart": storage_chart,
        "pushes_chart": day_columns(pushes),
        "pushes_total": sum(count for _, count in pushes),
        "tags_total": tags_total,
        "recent": [{"tag": tag, "platforms": recent_platforms[tag.manifest.id]} for tag in recent],
        "coverage": coverage,
    }
    return render(request, "repos/home.html", context)
