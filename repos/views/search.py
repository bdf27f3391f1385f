"""Search across the repositories the user may read."""

from __future__ import annotations

from repos.selectors.images import tag_rows
from repos.selectors.search import SEARCHES, parse_query
from repos.views.common import paginate, readable, render_with_partial

TITLES = {
    "image": "Images",
    "tag": "Tags",
    "digest": "Digests",
    "platform": "Runs on the platform",
    "label": "Labelled",
}


def search(request):
    raw = request.GET.get("q", "")
    parsed = parse_query(raw)
    sections = []
    if parsed.text:
        repositories = readable(request)
        for kind in parsed.kinds:
            page = paginate(
                request, SEARCHES[kind](repositories=repositories, text=parsed.text), per_page=25, param=f"{kind}_page"
            )
            items = list(page.object_list)
            rows = tag_rows(items) if kind in ("tag", "platform", "label") else items
            sections.append({"kind": kind, "title": TITLES[kind], "page": page, "rows": rows, "param": f"{kind}_page"})
    found = [s for s in sections if s["page"].paginator.count]
    context = {
        "query": raw.strip()[:300],
        "parsed": parsed,
        "sections": found or sections,
        "not_found": [s["title"] for s in sections if found and s not in found],
    }
    return render_with_partial(request, "repos/search.html", "partials/_search_results.html", context)
