"""A preview pins its plan: the request and the source digests it showed, signed into the form.

Confirm runs exactly the pinned request with those digests expected, so a source that moved since
the preview is refused (source-changed) and inputs changed since the preview are not run at all.
"""

from __future__ import annotations

from django.core import signing

from repos.promotion.domain import PromotionInvalid, PromotionPlan, PromotionRequest

SALT = "repos.promotion.pinned-plan"
MAX_AGE_SECONDS = 3600
FIELDS = ("source_key", "source_image", "target_key", "target_image", "source_tag", "target_tag", "copy")
LABELS = {
    "source_key": "source repository",
    "source_image": "image",
    "target_key": "target repository",
    "target_image": "new image name",
    "source_tag": "tag",
    "target_tag": "new tag name",
    "copy": "mode",
}


class PlanNotPinned(PromotionInvalid):
    code = "PLAN_NOT_PINNED"
    status = 409
    message = "preview again"


def plan_pin(plan: PromotionPlan) -> str:
    """The signed token the preview page carries to Confirm."""
    request = plan.request
    pinned = {name: getattr(request, name) for name in FIELDS}
    pinned["digests"] = plan.source_digests
    return signing.dumps(pinned, salt=SALT, compress=True)


def plan_unpin(token: str, *, current: PromotionRequest) -> PromotionRequest:
    """The pinned request, with its digests expected; refused when missing, stale or not what the form says."""
    try:
        pinned = signing.loads(token or "", salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise PlanNotPinned("this preview is more than an hour old: preview again") from None
    except signing.BadSignature:
        raise PlanNotPinned("confirm what a preview showed: preview first") from None
    request = PromotionRequest(**{name: pinned[name] for name in FIELDS}, expected_digests=pinned["digests"])
    changed = [name for name in FIELDS if getattr(request, name) != getattr(current, name)]
    if changed:
        raise PlanNotPinned(
            f"the form changed since the preview ({', '.join(LABELS[name] for name in changed)}): preview again; "
            "nothing was changed",
            detail={"changed": changed},
        )
    return request
