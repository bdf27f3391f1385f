"""Platform regressions: a tag now offers fewer platforms than the release before it, or than the same
tag had in the previous stage.

"The release before" is the image's highest version-like tag below this one (`1.1` before `1.2`,
`v2.9.1` before `v2.10`); tags that are not versions (`latest`, `main`) are compared only across stages.
"The previous stage" is the repository with the highest stage order below this repository's that holds
the same image and tag.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from insights.models import Alert
from repos.models import Repository, Tag
from repos.selectors.platforms import platform_images

_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:[-+].*)?$")


def version_key(name: str) -> tuple[int, ...] | None:
    match = _VERSION.match(name)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def previous_release(tag: Tag) -> Tag | None:
    """The image's highest version-like top-level tag below `tag`, or None."""
    current = version_key(tag.name)
    if current is None:
        return None
    candidates = Tag.objects.filter(image=tag.image, derived_from__isnull=True).exclude(pk=tag.pk)
    keyed = [(version_key(t.name), t) for t in candidates.select_related("manifest")]
    below = [(key, t) for key, t in keyed if key is not None and key < current]
    return max(below, key=lambda pair: pair[0])[1] if below else None


def previous_stage(tag: Tag) -> Tag | None:
    repository = tag.image.repository
    earlier = Repository.objects.filter(stage_order__lt=repository.stage_order).order_by("-stage_order", "key")
    return (
        Tag.objects.select_related("manifest", "image__repository")
        .filter(image__repository__in=earlier, image__name=tag.image.name, name=tag.name)
        .order_by("-image__repository__stage_order", "image__repository__key")
        .first()
    )


def regression_check(tag: Tag) -> Alert | None:
    """Record an alert when `tag` lost platforms against the previous release or stage; returns it if new."""
    now = set(platform_images(tag.manifest))
    lost: set[str] = set()
    comparisons, phrases = [], []
    for basis, other in (("release", previous_release(tag)), ("stage", previous_stage(tag))):
        if other is None:
            continue
        missing = sorted(set(platform_images(other.manifest)) - now)
        if not missing:
            continue
        compared = f"{other.image.repository.key}/{other.image.name}:{other.name}"
        comparisons.append({"basis": basis, "compared_with": compared, "lost": missing})
        where = "the previous release" if basis == "release" else "the previous stage"
        phrases.append(f"{', '.join(missing)}, which {compared} ({where}) had")
        lost.update(missing)
    if not comparisons:
        return None
    message = f"{tag.image.name}:{tag.name} lacks " + "; and ".join(phrases)
    return alert_record(
        tag=tag,
        kind=Alert.Kind.PLATFORM_REGRESSION,
        message=message,
        details={
            "lost": sorted(lost),
            "platforms": sorted(now),
            "comparisons": comparisons,
        },
    )


def alert_record(*, tag: Tag, kind: str, message: str, details: dict) -> Alert | None:
    """A new alert, or None when this tag and digest already have one of this kind."""
    try:
        with transaction.atomic():
            return Alert.objects.create(
                repository=tag.image.repository,
                image=tag.image,
                tag=tag.name,
                digest=tag.manifest.digest,
                kind=kind,
                message=message,
                details=details,
            )
    except IntegrityError:
        return None
