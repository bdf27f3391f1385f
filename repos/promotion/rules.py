"""The rules that refuse a promotion (permissions, target kind, immutable tags, overwrite, required platforms,
a source changed since the preview) and the hook other apps add theirs through (insights: `smoke-test`)."""

from __future__ import annotations

from collections.abc import Callable

from accounts.permissions import DELETE, PROMOTE, user_can
from repos import errors
from repos.models import Manifest, Repository, Tag
from repos.oci import platforms
from repos.promotion.domain import (
    RULE_IMMUTABLE,
    RULE_OVERWRITE,
    RULE_PERMISSION,
    RULE_PLATFORMS,
    RULE_SOURCE_CHANGED,
    RULE_TARGET_KIND,
    PromotionPlan,
    PromotionRefused,
    PromotionRequest,
    Refusal,
)
from repos.selectors.platforms import platform_entries

# Rules other apps add (insights: `smoke-test`), each `(plan) -> list[Refusal]`, checked after the ones below.
EXTRA_RULES: list[Callable[[PromotionPlan], list[Refusal]]] = []


def promotion_rule_register(rule: Callable[[PromotionPlan], list[Refusal]]) -> None:
    if rule not in EXTRA_RULES:
        EXTRA_RULES.append(rule)


def refusals_for(plan: PromotionPlan, *, user, source: Repository, target: Repository) -> list[Refusal]:
    request = plan.request
    refusals = []
    changed = source_changes(request, plan.source_digests)
    if changed:
        refusals.append(source_changed_refusal(request, changed))
    for side, repository in (("source", source), ("target", target)):
        if not user_can(user, repository, PROMOTE):
            refusals.append(
                Refusal(
                    RULE_PERMISSION,
                    f"you may not promote from or into {repository.key} (promote permission needed)",
                    {"repository": repository.key, "permission": PROMOTE, "side": side},
                )
            )
    if not request.copy and not user_can(user, source, DELETE):
        refusals.append(
            Refusal(
                RULE_PERMISSION,
                f"a move removes tags from {source.key}, which needs the delete permission there",
                {"repository": source.key, "permission": DELETE, "side": "source"},
            )
        )
    if not target.is_local:
        refusals.append(
            Refusal(
                RULE_TARGET_KIND,
                f"{target.key} is a {target.kind} repository: promote into a local repository",
                {"repository": target.key, "kind": target.kind, "side": "target"},
            )
        )
    if not request.copy and not source.is_local:
        refusals.append(
            Refusal(
                RULE_TARGET_KIND,
                f"{source.key} is a {source.kind} repository: copy from it (a move would remove "
                "from the cache, not from its upstream)",
                {"repository": source.key, "kind": source.kind, "side": "source"},
            )
        )
    overwritten = [c.target_tag for c in plan.changes("overwrite")] + plan.removed_from_target
    if overwritten and target.tag_immutability:
        refusals.append(
            Refusal(
                RULE_IMMUTABLE,
                f"{target.key} has immutable tags and these exist: {', '.join(overwritten)}",
                {"repository": target.key, "tags": overwritten, "side": "target"},
            )
        )
    if plan.removed_from_source and source.tag_immutability:
        refusals.append(
            Refusal(
                RULE_IMMUTABLE,
                f"{source.key} has immutable tags: a move cannot remove "
                f"{', '.join(plan.removed_from_source)} (copy instead)",
                {"repository": source.key, "tags": plan.removed_from_source, "side": "source"},
            )
        )
    if overwritten and not user_can(user, target, DELETE):
        refusals.append(
            Refusal(
                RULE_OVERWRITE,
                f"overwriting {', '.join(overwritten)} in {target.key} needs the delete permission",
                {"repository": target.key, "tags": overwritten, "permission": DELETE},
            )
        )
    required = [p for p in (target.required_platforms or []) if isinstance(p, str) and p]
    for target_name, manifest in plan.primaries if required else []:
        missing = missing_platforms(required, manifest)
        if missing:
            refusals.append(
                Refusal(
                    RULE_PLATFORMS,
                    f"{target.key} requires platforms {', '.join(missing)} that {target_name} does not have",
                    {"repository": target.key, "tag": target_name, "missing": missing, "required": required},
                )
            )
    for rule in EXTRA_RULES:
        refusals.extend(rule(plan))
    return refusals


def image_platforms(manifest: Manifest) -> list[tuple[str, str, str]]:
    """(os, architecture, variant) of an image manifest, or of an index's children (attestations aside)."""
    return [(os, architecture, variant) for os, architecture, variant, _ in platform_entries(manifest)]


def missing_platforms(required: list[str], manifest: Manifest) -> list[str]:
    """Required `os/arch[/variant]` entries the image lacks; a requirement without variant accepts any."""
    present = image_platforms(manifest)
    missing = []
    for requirement in required:
        os_, arch, variant = platforms.parse_platform(requirement)
        if not any(p[0] == os_ and p[1] == arch and (not variant or p[2] == variant) for p in present):
            missing.append(requirement)
    return missing


class SourceChanged(PromotionRefused):
    """The source is not what the requester saw: refused before anything is queued or changed."""

    def __init__(self, request: PromotionRequest, changed: list[dict]):
        refusal = source_changed_refusal(request, changed)
        errors.RegistryError.__init__(self, refusal.message, detail={"refusals": [refusal.as_dict()]})
        self.status = 409
        self.plan = PromotionPlan(request=request, refusals=[refusal])


def source_changes(request: PromotionRequest, current: dict[str, str]) -> list[dict]:
    """Each source tag whose digest differs from the expected one (`current` "" when the tag is gone)."""
    if request.expected_digests is None:
        return []
    expected = request.expected_digests
    return [
        {"tag": tag, "previewed": expected.get(tag, ""), "current": current.get(tag, "")}
        for tag in sorted(set(expected) | set(current))
        if expected.get(tag, "") != current.get(tag, "")
    ]


def source_changed_refusal(request: PromotionRequest, changed: list[dict]) -> Refusal:
    ref = f"{request.source_key}/{request.source_image}"
    parts = []
    for change in changed:
        previewed, current = change["previewed"] or "absent", change["current"] or "absent"
        parts.append(f"{ref}:{change['tag']} was {previewed} when previewed and is now {current}")
    return Refusal(
        RULE_SOURCE_CHANGED,
        "the source changed since the preview: " + "; ".join(parts) + " (preview again)",
        {"repository": request.source_key, "image": request.source_image, "changed": changed},
    )


def source_digests_current(request: PromotionRequest, source: Repository) -> dict[str, str]:
    """What the source tags of the request hold now (the tags a promotion of every tag would take)."""
    tags = Tag.objects.filter(image__repository=source, image__name=request.source_image)
    if request.source_tag:
        tags = tags.filter(name=request.source_tag)
    else:
        tags = tags.filter(derived_from__isnull=True)
    return dict(tags.values_list("name", "manifest__digest"))


def raise_if_pinned(request: PromotionRequest) -> None:
    """The pinned source tags are gone: that is a changed source (409), not an unknown one."""
    if request.expected_digests:
        raise SourceChanged(request, source_changes(request, {}))


def source_unchanged_check(request: PromotionRequest, source: Repository) -> None:
    """Raise SourceChanged (409) when the request pins digests the source no longer holds."""
    if request.expected_digests is None:
        return
    changed = source_changes(request, source_digests_current(request, source))
    if changed:
        raise SourceChanged(request, changed)
