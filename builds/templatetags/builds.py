"""Build pieces for other pages: `{% build_provenance repository manifest %}` (the build that produced an
image), `{% recent_builds %}` (home page)."""

from django import template

from builds.selectors import build_for_digest, builds_visible

register = template.Library()


@register.inclusion_tag("builds/partials/_provenance.html")
def build_provenance(repository, manifest):
    job = build_for_digest(repository=repository, digest=manifest.digest) if repository and manifest else None
    return {"job": job}


@register.inclusion_tag("builds/partials/_recent.html", takes_context=True)
def recent_builds(context, limit: int = 5):
    """The latest builds the viewer can see (home page's recent activity)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"jobs": []}
    return {"jobs": list(builds_visible(user).order_by("-created", "-id")[:limit])}
