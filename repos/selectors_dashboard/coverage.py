"""Architecture coverage: images × platforms across repositories.

An image's platforms are those of its current tag: `latest` when it exists, otherwise the top-level
tag pushed last. A cell is present, missing, or missing-but-required (the repository's
`required_platforms` lists it). Three queries whatever the number of images.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from repos.models import Image, Repository, Tag
from repos.selectors_dashboard.platforms import (
    INDEX_TYPES,
    current_tags,
    index_platforms,
    platform_label,
    platform_sort_key,
)

PRESENT = "present"
MISSING = "missing"
MISSING_REQUIRED = "missing_required"


@dataclass
class CoverageRow:
    image_id: int
    repository: str
    stage: str
    image: str
    tag: str | None
    digest: str | None
    present: set[str]
    required: list[str]
    cells: list[tuple[str, str]] = field(default_factory=list)

    def state(self, platform: str) -> str:
        if platform in self.present:
            return PRESENT
        return MISSING_REQUIRED if platform in self.required else MISSING

    @property
    def missing_required(self) -> list[str]:
        return [p for p in self.required if p not in self.present]


@dataclass
class PlatformCount:
    present: int = 0
    missing: int = 0
    missing_required: int = 0


@dataclass
class CoverageMatrix:
    platforms: list[str]
    rows: list[CoverageRow]
    counts: dict[str, PlatformCount]
    # Over every image in scope (repository, stage, name), before the missing filters.
    images_in_scope: int
    images_complete: int


@dataclass(frozen=True)
class CoverageFilters:
    repositories: tuple[str, ...] = ()
    stage: str = ""
    name: str = ""
    platforms: tuple[str, ...] = ()
    missing: bool = False
    missing_required: bool = False


def coverage_images(*, repositories: QuerySet[Repository], filters: CoverageFilters = CoverageFilters()) -> QuerySet[Image]:
    """The images in scope: readable, then narrowed by repository keys, stage and name."""
    images = Image.objects.filter(repository__in=repositories)
    if filters.repositories:
        images = images.filter(repository__key__in=filters.repositories)
    if filters.stage:
        images = images.filter(repository__stage=filters.stage)
    if filters.name:
        images = images.filter(name__icontains=filters.name)
    return images


def coverage_matrix(*, images: QuerySet[Image], platforms: tuple[str, ...] = (), missing: bool = False,
                    missing_required: bool = False) -> CoverageMatrix:
    """The matrix over `images`; `platforms` picks the columns (default: every platform seen or required)."""
    rows = _rows(images)
    columns = list(platforms) or sorted(
        {p for row in rows for p in row.present} | {p for row in rows for p in row.required},
        key=platform_sort_key,
    )
    complete = sum(1 for row in rows if not row.missing_required)
    in_scope = len(rows)
    if missing:
        rows = [row for row in rows if any(p not in row.present for p in columns)]
    if missing_required:
        considered = set(columns)
        rows = [row for row in rows if any(p in considered for p in row.missing_required)]
    counts = {platform: PlatformCount() for platform in columns}
    for row in rows:
        row.cells = [(platform, row.state(platform)) for platform in columns]
        for platform, state in row.cells:
            count = counts[platform]
            setattr(count, state, getattr(count, state) + 1)
    return CoverageMatrix(columns, rows, counts, in_scope, complete)


@dataclass
class CoverageSummary:
    images: int
    complete: int


def coverage_summary(*, repositories: QuerySet[Repository], images: int) -> CoverageSummary:
    """How many of `images` have every platform their repository requires.

    Only repositories that require platforms need looking at: an image elsewhere is complete by definition.
    """
    demanding = repositories.exclude(required_platforms=[])
    rows = _rows(Image.objects.filter(repository__in=demanding))
    return CoverageSummary(images=images, complete=images - sum(1 for row in rows if row.missing_required))


def coverage_for(*, repositories: QuerySet[Repository], filters: CoverageFilters) -> CoverageMatrix:
    return coverage_matrix(images=coverage_images(repositories=repositories, filters=filters),
                           platforms=filters.platforms, missing=filters.missing,
                           missing_required=filters.missing_required)


def _rows(images: QuerySet[Image]) -> list[CoverageRow]:
    found = list(
        images.order_by("repository__stage_order", "repository__key", "name")
        .values_list("id", "name", "repository__key", "repository__stage", "repository__required_platforms")
    )
    # The window runs over the tag table alone, in a subquery; only the ~one tag per image it keeps is
    # joined to its manifest (joining inside the window would join every tag).
    current = {
        row[0]: row[1:] for row in Tag.objects.filter(pk__in=current_tags(images).values("pk")).values_list(
            "image_id", "name", "manifest_id", "manifest__media_type", "manifest__os", "manifest__architecture",
            "manifest__variant", "manifest__digest")
    }
    by_index = index_platforms({c[1]: c[6] for c in current.values() if c[2] in INDEX_TYPES})
    rows = []
    for image_id, name, key, stage, required in found:
        tag, manifest_id, media_type, os, arch, variant, digest = current.get(image_id, (None,) * 7)
        if media_type is None:
            present: set[str] = set()
        elif media_type in INDEX_TYPES:
            present = by_index.get(manifest_id, set())
        else:
            label = platform_label(os, arch, variant)
            present = {label} if label else set()
        rows.append(CoverageRow(
            image_id=image_id, repository=key, stage=stage, image=name, tag=tag, digest=digest, present=present,
            required=[p for p in (required or []) if isinstance(p, str)],
        ))
    return rows
