"""Stages side by side: one image's tags across the repositories in stage order, and the next stage.

Reads only, in a fixed number of queries whatever the number of repositories and tags: the
repositories, one page of tag names, the tags of that page, and the platforms of their indexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from repos.models import Repository, Tag
from repos.selectors.platforms import manifests_light, platforms_of

ROWS_PER_PAGE = 50

# A cell compared with the same tag in the previous stage (the column to its left).
PRESENT = "present"  # the first stage: nothing to compare with
SAME = "same"  # the previous stage holds the same digest
DIFFERENT = "different"  # the previous stage holds another digest
NEW = "new"  # the previous stage does not have the tag
ABSENT = "absent"  # this stage does not have the tag
STATES = (PRESENT, SAME, DIFFERENT, NEW, ABSENT)


def in_stage_order(repositories: Iterable[Repository]) -> list[Repository]:
    return sorted(repositories, key=lambda r: (r.stage_order, r.key))


def stages(repositories: Iterable[Repository]) -> list[Repository]:
    """The pipeline: local repositories in stage order (remotes are caches and virtuals views, not stages)."""
    return in_stage_order(r for r in repositories if r.kind == Repository.Kind.LOCAL)


def next_stage_key(repositories: Iterable[Repository], source_key: str) -> str:
    """The stage after `source_key`; "" when it is the last or no stage (never the source itself)."""
    keys = [r.key for r in stages(repositories)]
    if source_key not in keys:
        return ""
    position = keys.index(source_key)
    return keys[position + 1] if position + 1 < len(keys) else ""


@dataclass
class StageCell:
    repository: str
    state: str
    digest: str = ""
    platforms: list[str] = field(default_factory=list)
    attestations: int = 0

    @property
    def present(self) -> bool:
        return self.state != ABSENT


@dataclass
class StageRow:
    tag: str
    cells: list[StageCell]
    # The first step of the pipeline still to take: from a stage holding the tag to the next stage,
    # which lacks it or holds another digest. Empty when every later stage already matches.
    promote_from: str = ""
    promote_to: str = ""


@dataclass
class StageGrid:
    image: str
    repositories: list[Repository]
    rows: list[StageRow]
    page: Page


def stage_grid(
    *, repositories: QuerySet[Repository], image: str, page_number=None, per_page: int = ROWS_PER_PAGE
) -> StageGrid | None:
    """The grid of one image name over the stages among `repositories` (those the caller may read);
    None if no stage holds the image."""
    columns = stages(repositories)
    tags = Tag.objects.filter(
        image__repository__in=[r.pk for r in columns], image__name=image, derived_from__isnull=True
    )
    names = tags.order_by("name").values_list("name", flat=True).distinct()
    page = Paginator(names, per_page).get_page(page_number)
    if not page.paginator.count:
        return None
    found = list(
        tags.filter(name__in=list(page.object_list)).values_list("name", "image__repository_id", "manifest_id")
    )
    manifests = {m.id: m for m in manifests_light().filter(id__in={row[2] for row in found})}
    platforms = platforms_of(manifests.values())
    held = {(name, repository_id): manifests[manifest_id] for name, repository_id, manifest_id in found}
    rows = []
    for name in page.object_list:
        cells = []
        for repository in columns:
            manifest = held.get((name, repository.pk))
            if manifest is None:
                cells.append(StageCell(repository.key, ABSENT))
                continue
            labels = platforms[manifest.id]
            cells.append(
                StageCell(
                    repository.key, _state(cells, manifest.digest), manifest.digest, labels.labels, labels.attestations
                )
            )
        rows.append(_with_next_step(StageRow(name, cells)))
    return StageGrid(image=image, repositories=columns, rows=rows, page=page)


def _state(previous: Sequence[StageCell], digest: str) -> str:
    if not previous:
        return PRESENT
    before = previous[-1]
    if not before.present:
        return NEW
    return SAME if before.digest == digest else DIFFERENT


def _with_next_step(row: StageRow) -> StageRow:
    for here, after in zip(row.cells, row.cells[1:]):
        if here.present and after.digest != here.digest:
            row.promote_from, row.promote_to = here.repository, after.repository
            break
    return row
