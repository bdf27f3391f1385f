"""Where a tag's current value came from: a client's push, a build, or a promotion (and from where)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from repos.models import Tag

PUSHED, BUILT, PROMOTED = "pushed", "built", "promoted"


@dataclass(frozen=True)
class Provenance:
    kind: str  # pushed | built | promoted
    by: str  # username, "" when unknown
    at: datetime | None
    build_id: int | None = None
    promotion_id: int | None = None
    promoted_from: str = ""  # "docker-local/multiarch-image:tag" (the tag as it was named there)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "by": self.by or None,
            "at": self.at,
            "build": self.build_id,
            "promotion": self.promotion_id,
            "promoted_from": self.promoted_from or None,
        }


def tag_provenance(tag: Tag) -> Provenance:
    """Needs `pushed_by` and `promotion` loaded (select_related or prefetch) to cost no query."""
    by = tag.pushed_by.username if tag.pushed_by_id and tag.pushed_by else ""
    job = tag.promotion if tag.promotion_id else None
    if job is not None:
        return Provenance(
            PROMOTED,
            job.requested_by_name or by,
            job.finished or tag.updated,
            promotion_id=job.pk,
            promoted_from=_source_of(job, tag.name),
        )
    if tag.build_id:
        return Provenance(BUILT, by, tag.updated, build_id=tag.build_id)
    return Provenance(PUSHED, by, tag.updated)


def _source_of(job, target_tag: str) -> str:
    """The source tag this one was promoted from (renames and per-platform tags included)."""
    source_tag = (
        next(
            (
                change.get("source_tag")
                for change in (job.result or {}).get("tags", [])
                if change.get("target_tag") == target_tag
            ),
            "",
        )
        or job.source_tag
        or target_tag
    )
    return f"{job.source_key}/{job.source_image}:{source_tag}"
