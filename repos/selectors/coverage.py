"""Architecture coverage: images × platforms across repositories.

An image's platforms are those of its current tag: `latest` when it exists, otherwise the top-level
tag pushed last. A cell is present, missing, or missing-but-required (the repository's
`required_platforms` lists it). Read from the ImageCoverage aggregate (one row per image, kept current on writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from repos.models import Image, ImageCoverage, Repository, Tag
from repos.oci.platforms import platform_label
from repos.selectors.platforms import INDEX_TYPES, current_tags, index_platforms, platform_sort_key

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
    present: AbstractSet[str]
    required: list[str]
    cells: list[tuple[str, str]] = field(default_factory=list)
    repository_id: int = field(kw_only=True)

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
    rows: CoverageRows
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


def coverage_images(
    *, repositories: QuerySet[Repository], filters: CoverageFilters = CoverageFilters()
) -> QuerySet[Image]:
    """The images in scope: readable, then narrowed by repository keys, stage and name."""
    images = Image.objects.filter(repository__in=repositories)
    if filters.repositories:
        images = images.filter(repository__key__in=filters.repositories)
    if filters.stage:
        images = images.filter(repository__stage=filters.stage)
    if filters.name:
        images = images.filter(name__icontains=filters.name)
    return images


def coverage_matrix(
    *, images: QuerySet[Image], platforms: tuple[str, ...] = (), missing: bool = False, missing_required: bool = False
) -> CoverageMatrix:
    """The matrix over `images`; `platforms` picks the columns (default: every platform seen or required).

    Read from the ImageCoverage rows kept current on every write. A cell's state depends only on the row's
    repository and platform set, of which there are a handful: one grouped query over them gives the images
    in scope, the complete ones, the rows the missing filters keep and every column's counts, and only the
    page shown is turned into Python rows, whatever the number of images.
    """
    scope, groups, kept, columns, required = _scope(images, platforms, missing, missing_required)
    in_scope = sum(g.rows for g in groups)
    incomplete = sum(g.rows for g in groups if _lacks(g.present, required.get(g.repository_id, [])))
    total = sum(g.rows for g in kept)
    counts = {}
    for platform in columns:
        present = sum(g.rows for g in kept if platform in g.present)
        needed = sum(
            g.rows for g in kept if platform not in g.present and platform in required.get(g.repository_id, [])
        )
        counts[platform] = PlatformCount(present=present, missing=total - present - needed, missing_required=needed)
    rows = CoverageRows(_kept_rows(scope, kept, missing or missing_required), columns, required, count=total)
    return CoverageMatrix(columns, rows, counts, in_scope, in_scope - incomplete)


def coverage_rows(
    *, images: QuerySet[Image], platforms: tuple[str, ...] = (), missing: bool = False, missing_required: bool = False
) -> CoverageRows:
    """The matrix rows alone (columns in `.columns`), without the counts the page shows: for exports."""
    scope, _, kept, columns, required = _scope(images, platforms, missing, missing_required)
    return CoverageRows(_kept_rows(scope, kept, missing or missing_required), columns, required)


@dataclass(frozen=True)
class Group:
    """Coverage rows sharing a repository and a platform set (`platforms` as stored)."""

    repository_id: int
    platforms: str
    present: frozenset[str]
    rows: int


def _scope(images: QuerySet[Image], platforms: tuple[str, ...], missing: bool, missing_required: bool):
    """The coverage rows of `images`; their groups by repository and platform set; the groups the missing
    filters keep; the columns; the platforms each repository requires."""
    scope = ImageCoverage.objects.filter(image__in=images)
    required = {
        pk: [p for p in (value or []) if isinstance(p, str)]
        for pk, value in Repository.objects.filter(pk__in=images.values("repository_id"))
        .exclude(required_platforms=[])
        .values_list("pk", "required_platforms")
    }
    groups = [
        Group(pk, combo, _offered(combo), n)
        for pk, combo, n in scope.order_by()
        .values("repository_id", "platforms")
        .annotate(n=Count("pk"))
        .values_list("repository_id", "platforms", "n")
    ]
    columns = list(platforms) or sorted(
        {p for g in groups for p in g.present} | {p for ps in required.values() for p in ps},
        key=platform_sort_key,
    )
    among = set(columns)
    kept = [
        g
        for g in groups
        if (not missing or _lacks(g.present, columns))
        and (not missing_required or _lacks(g.present, [p for p in required.get(g.repository_id, []) if p in among]))
    ]
    return scope, groups, kept, columns, required


def _offered(platforms: str) -> frozenset[str]:
    return frozenset(p for p in platforms.split(",") if p)


def _lacks(present: frozenset[str], wanted: list[str]) -> bool:
    return any(p not in present for p in wanted)


def _kept_rows(scope: QuerySet[ImageCoverage], kept: list[Group], filtered: bool) -> QuerySet[ImageCoverage]:
    """The rows of the kept groups: per platform set, the repositories whose rows with it are kept."""
    if not filtered:
        return scope
    by_set: dict[str, list[int]] = {}
    for g in kept:
        by_set.setdefault(g.platforms, []).append(g.repository_id)
    return scope.filter(_any_of(Q(platforms=combo, repository_id__in=ids) for combo, ids in by_set.items()))


class CoverageRows:
    """The matrix rows as a lazy sequence: len() is a COUNT (unless known), a slice (a page) one query."""

    def __init__(
        self,
        queryset: QuerySet[ImageCoverage],
        columns: list[str],
        required: dict[int, list[str]],
        count: int | None = None,
    ):
        self.queryset = queryset.order_by("repository__stage_order", "repository__key", "image__name").values_list(
            "image_id",
            "image__name",
            "repository_id",
            "repository__key",
            "repository__stage",
            "tag",
            "digest",
            "platforms",
        )
        self.columns = columns
        self.required = required
        self._count = count  # known already when the matrix aggregate counted the rows

    def count(self) -> int:
        if self._count is None:
            self._count = self.queryset.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(values) for values in self.queryset[index]]
        return self._row(self.queryset[index])

    def __iter__(self):
        for values in self.queryset.iterator(chunk_size=2000):
            yield self._row(values)

    def table(self) -> Iterator[tuple[str, ...]]:
        """Every row as a plain tuple (repository, stage, image, tag, digest, *cell states), for exports.

        The states depend only on the repository and the platform set, of which there are a handful: they
        are worked out once per pair, not per image.
        """
        states: dict[tuple[int, str], tuple[str, ...]] = {}
        for _, name, repository_id, key, stage, tag, digest, platforms in self.queryset.iterator(chunk_size=2000):
            cells = states.get((repository_id, platforms))
            if cells is None:
                present = {p for p in platforms.split(",") if p}
                required = self.required.get(repository_id, [])
                cells = states[(repository_id, platforms)] = tuple(
                    PRESENT if p in present else MISSING_REQUIRED if p in required else MISSING for p in self.columns
                )
            yield (key, stage, name, tag, digest, *cells)

    def _row(self, values) -> CoverageRow:
        image_id, name, repository_id, key, stage, tag, digest, platforms = values
        row = CoverageRow(
            image_id=image_id,
            repository=key,
            stage=stage,
            image=name,
            tag=tag or None,
            digest=digest or None,
            present={p for p in platforms.split(",") if p},
            required=self.required.get(repository_id, []),
            repository_id=repository_id,
        )
        row.cells = [(platform, row.state(platform)) for platform in self.columns]
        return row


def _any_of(conditions) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


@dataclass
class CoverageSummary:
    images: int
    complete: int


def coverage_summary(*, repositories: QuerySet[Repository], images: int) -> CoverageSummary:
    """How many of `images` have every platform their repository requires.

    Only repositories that require platforms need looking at: an image elsewhere is complete by definition.
    """
    required = {
        pk: [p for p in (value or []) if isinstance(p, str)]
        for pk, value in repositories.exclude(required_platforms=[]).values_list("pk", "required_platforms")
    }
    grouped = (
        ImageCoverage.objects.filter(repository_id__in=list(required))
        .order_by()
        .values("repository_id", "platforms")
        .annotate(n=Count("pk"))
        .values_list("repository_id", "platforms", "n")
    )
    incomplete = sum(n for pk, combo, n in grouped if _lacks(_offered(combo), required[pk]))
    return CoverageSummary(images=images, complete=images - incomplete)


def coverage_for(*, repositories: QuerySet[Repository], filters: CoverageFilters) -> CoverageMatrix:
    return coverage_matrix(
        images=coverage_images(repositories=repositories, filters=filters),
        platforms=filters.platforms,
        missing=filters.missing,
        missing_required=filters.missing_required,
    )


def coverage_rows_for(*, repositories: QuerySet[Repository], filters: CoverageFilters) -> CoverageRows:
    return coverage_rows(
        images=coverage_images(repositories=repositories, filters=filters),
        platforms=filters.platforms,
        missing=filters.missing,
        missing_required=filters.missing_required,
    )


def current_coverage(images: QuerySet[Image]) -> list[CoverageRow]:
    """Computed from the tags (what ImageCoverage keeps): each image's current tag and its platforms."""
    return _rows(images)


def _rows(images: QuerySet[Image]) -> list[CoverageRow]:
    found = list(
        images.order_by("repository__stage_order", "repository__key", "name").values_list(
            "id", "name", "repository__key", "repository__stage", "repository__required_platforms", "repository_id"
        )
    )
    # The window runs over the tag table alone, in a subquery; only the ~one tag per image it keeps is
    # joined to its manifest (joining inside the window would join every tag).
    current = {
        row[0]: row[1:]
        for row in Tag.objects.filter(pk__in=current_tags(images).values("pk")).values_list(
            "image_id",
            "name",
            "manifest_id",
            "manifest__media_type",
            "manifest__os",
            "manifest__architecture",
            "manifest__variant",
            "manifest__digest",
        )
    }
    by_index = index_platforms({c[1]: c[6] for c in current.values() if c[2] in INDEX_TYPES})
    rows = []
    for image_id, name, key, stage, required, repository_id in found:
        tag: str | None = None
        digest: str | None = None
        present: AbstractSet[str] = set()
        if image_id in current:
            tag, manifest_id, media_type, os, arch, variant, digest = current[image_id]
            if media_type in INDEX_TYPES:
                present = by_index.get(manifest_id, set())
            else:
                label = platform_label(os, arch, variant)
                present = {label} if label else set()
        rows.append(
            CoverageRow(
                image_id=image_id,
                repository=key,
                stage=stage,
                image=name,
                tag=tag,
                digest=digest,
                present=present,
                required=[p for p in (required or []) if isinstance(p, str)],
                repository_id=repository_id,
            )
        )
    return rows
