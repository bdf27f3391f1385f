"""An image: its tags, index tags grouped with the per-arch tags derived from them."""

from __future__ import annotations

from config.public_url import public_host
from repos.selectors.images import image_tags, tag_rows
from repos.views.common import image_or_404, paginate, render_with_partial


def image_detail(request, key: str, name: str):
    image = image_or_404(request, key, name)
    query = request.GET.get("q", "").strip()[:128]
    page = paginate(request, image_tags(image=image, name=query))
    context = {
        "image": image,
        "repository": image.repository,
        "query": query,
        "page": page,
        "rows": tag_rows(list(page.object_list)),
        "host": public_host(request),
    }
    return render_with_partial(request, "repos/image.html", "partials/_tags_table.html", context)
