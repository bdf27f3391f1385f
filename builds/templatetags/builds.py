"""`{% build_provenance repository manifest %}`: on an image's page, the build that produced it."""
from django import template

from builds.selectors import build_for_digest

register = template.Library()


@register.inclusion_tag("builds/partials/_provenance.html")
def build_provenance(repository, manifest):
    job = build_for_digest(repository=repository, digest=manifest.digest) if repository and manifest else None
    return {"job": job}
