"""Architecture coverage: the matrix page and its CSV export."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from repos.selectors.coverage import CoverageFilters, coverage_for, coverage_rows_for
from repos.views.common import paginate, readable, render_with_partial

TRUE = {"1", "true", "yes", "on"}


def filters_from(params) -> CoverageFilters:
    def many(name: str) -> tuple[str, ...]:
        values = [v.strip() for raw in params.getlist(name) for v in raw.split(",")]
        return tuple(dict.fromkeys(v for v in values if v))[:50]

    return CoverageFilters(
        repositories=many("repository"),
        stage=params.get("stage", "").strip()[:32],
        name=params.get("name", "").strip()[:200],
        platforms=many("platform"),
        missing=params.get("missing", "").lower() in TRUE,
        missing_required=params.get("missing_required", "").lower() in TRUE,
    )


def coverage(request):
    repositories = readable(request)
    filters = filters_from(request.GET)
    matrix = coverage_for(repositories=repositories, filters=filters)
    choices = list(repositories.order_by("stage_order", "key").values_list("key", "stage"))
    context = {
        "matrix": matrix,
        "filters": filters,
        "page": paginate(request, matrix.rows),
        "repository_choices": [key for key, _ in choices],
        "stage_choices": sorted({stage for _, stage in choices if stage}),
        "csv_query": request.GET.urlencode(),
    }
    return render_with_partial(request, "repos/coverage.html", "partials/_coverage_results.html", context)


def coverage_csv(request):
    rows = coverage_rows_for(repositories=readable(request), filters=filters_from(request.GET))
    body = io.StringIO()  # one write into the response, not one per row
    writer = csv.writer(body)
    writer.writerow(["repository", "stage", "image", "tag", "digest", *rows.columns])
    # Cell states are fixed words; only the five text columns can carry what a spreadsheet would run.
    writer.writerows(
        (_cell(key), _cell(stage), _cell(image), _cell(tag), _cell(digest), *cells)
        for key, stage, image, tag, digest, *cells in rows.table()
    )
    response = HttpResponse(body.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="coverage.csv"'
    return response


def _cell(value: str) -> str:
    # A value a spreadsheet would run as a formula is quoted (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
