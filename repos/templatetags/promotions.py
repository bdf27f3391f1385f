"""Promotion pieces for other pages: `{% promote_button repository image tag %}`, `{% recent_promotions %}`."""

from django import template

from accounts.permissions import PROMOTE, request_can
from repos.promotion.selectors import promotion_jobs_visible

register = template.Library()


@register.inclusion_tag("promotions/partials/_promote_button.html", takes_context=True)
def promote_button(context, repository, image, tag: str = ""):
    request = context.get("request")
    allowed = request is not None and request_can(request, repository, PROMOTE)
    return {"allowed": allowed, "repository": repository, "image": image, "tag": tag}


@register.inclusion_tag("promotions/partials/_recent.html", takes_context=True)
def recent_promotions(context, limit: int = 5):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"jobs": []}
    return {"jobs": list(promotion_jobs_visible(user=request.user)[:limit])}
