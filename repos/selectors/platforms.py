"""Platforms of manifests: an index's children (attestations apart) or an image manifest's own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from repos.models import Manifest, ManifestListEntry, Tag
from repos.oci import media_types
from repos.oci.platforms import UNKNOWN, is_attestation, platform_label

INDEX_TYPES = tuple(media_types.INDEX_TYPES)


def attestation_q(prefix: str = "") -> Q:
    """`is_attestation` as a filter on index entries (`prefix` reaches them through a relation)."""
    return Q(**{f"{prefix}os": UNKNOWN}) | Q(**{f"{prefix}architecture": UNKNOWN})


def platform_sort_key(label: str) -> tuple:
    # linux/amd64 and linux/arm64 first: the pair every team checks.
    preferred = {"linux/amd64": 0, "linux/arm64": 1}
    return (preferred.get(label, 2), label)


@dataclass
class Child:
    """One platform image of an index (or an image manifest standing alone)."""

    platform: str
    digest: str
    size: int
    manifest_id: int


@dataclass(frozen=True)
class DuplicatePlatform:
    """A platform an index lists more than once: clients pull the first entry, the others never by platform."""

    platform: str
    pulled: str  # digest of the first entry
    shadowed: tuple[str, ...]

    @property
    def message(self) -> str:
        others = ", ".join(self.shadowed)
        return (
            f"{self.platform} is listed {len(self.shadowed) + 1} times in this index: docker and containerd "
            f"pull the first entry ({self.pulled}), which its per-platform tag names; {others} is never "
            f"pulled for {self.platform}"
        )


@dataclass
class ManifestPlatforms:
    children: list[Child] = field(default_factory=list)
    attestations: int = 0

    @property
    def labels(self) -> list[str]:
        return sorted({c.platform for c in self.children if c.platform}, key=platform_sort_key)

    @property
    def duplicates(self) -> list[DuplicatePlatform]:
        """Platforms listed more than once, in index order (children are kept in index order)."""
        by_platform: dict[str, list[str]] = defaultdict(list)
        for child in self.children:
            if child.platform:
                by_platform[child.platform].append(child.digest)
        return [
            DuplicatePlatform(label, found[0], tuple(found[1:]))
            for label, found in by_platform.items()
            if len(found) > 1
        ]


def platforms_of(manifests: Iterable) -> dict[int, ManifestPlatforms]:
    """Platforms per manifest id, in one query for all the indexes among `manifests`.

    `manifests` are Manifest rows (or objects with id, digest, media_type, os, architecture, variant,
    content_size), loaded without their raw bytes.
    """
    result: dict[int, ManifestPlatforms] = {}
    index_ids = []
    for manifest in manifests:
        if manifest.id in result:
            continue
        found = result[manifest.id] = ManifestPlatforms()
        if manifest.media_type in INDEX_TYPES:
            index_ids.append(manifest.id)
        else:
            label = platform_label(manifest.os, manifest.architecture, manifest.variant)
            found.children.append(Child(label, manifest.digest, manifest.content_size, manifest.id))
    if index_ids:
        entries = (
            ManifestListEntry.objects.filter(index_id__in=index_ids)
            .order_by("index_id", "position")
            .values_list(
                "index_id", "os", "architecture", "variant", "manifest_id", "manifest__digest", "manifest__content_size"
            )
        )
        for index_id, os, arch, variant, child_id, child_digest, child_size in entries:
            if is_attestation(os, arch):
                result[index_id].attestations += 1
            else:
                result[index_id].children.append(
                    Child(platform_label(os, arch, variant), child_digest, child_size, child_id)
                )
    return result


def platform_entries(manifest: Manifest) -> list[tuple[str, str, str, Manifest]]:
    """(os, architecture, variant, image) of each platform image: an index's children in index order
    (attestations are not platforms), or an image manifest's own; one query for an index."""
    if not manifest.is_index:
        return [(manifest.os, manifest.architecture, manifest.variant, manifest)]
    return [
        (entry.os, entry.architecture, entry.variant, entry.manifest)
        for entry in manifest.entries.select_related("manifest").order_by("position")
        if not entry.is_attestation
    ]


def platform_images(manifest: Manifest) -> dict[str, Manifest]:
    """Platform label -> the image clients pull for it: of an index, the first entry of each platform
    (attestations are not platforms); of an image manifest that names its platform, itself."""
    images: dict[str, Manifest] = {}
    for os, architecture, variant, image in platform_entries(manifest):
        if os and architecture:
            images.setdefault(platform_label(os, architecture, variant), image)
    return images


def entry_platforms(index_ids: Iterable[int]) -> dict[int, set[str]]:
    """Platform labels per index id (attestations apart), one query."""
    found: dict[int, set[str]] = defaultdict(set)
    ids = list(index_ids)
    if not ids:
        return found
    rows = ManifestListEntry.objects.filter(index_id__in=ids).values_list("index_id", "os", "architecture", "variant")
    for index_id, os, arch, variant in rows:
        if not is_attestation(os, arch):
            found[index_id].add(platform_label(os, arch, variant))
    return found


# Platforms of an index, by digest. A digest names fixed bytes and the entries are written in the same
# transaction as the index row, so an answer never goes stale; the cache only saves reading them again.
_INDEX_PLATFORMS: dict[str, frozenset[str]] = {}
_INDEX_PLATFORMS_LIMIT = 200_000


def index_platforms(indexes: dict[int, str]) -> dict[int, frozenset[str]]:
    """Platform labels per index id, for `indexes` given as {id: digest}; one query for those not seen before."""
    found: dict[int, frozenset[str]] = {}
    unseen: dict[int, str] = {}
    for index_id, digest in indexes.items():
        known = _INDEX_PLATFORMS.get(digest)
        if known is None:
            unseen[index_id] = digest
        else:
            found[index_id] = known
    if unseen:
        fetched = entry_platforms(unseen)
        if len(_INDEX_PLATFORMS) + len(unseen) > _INDEX_PLATFORMS_LIMIT:
            _INDEX_PLATFORMS.clear()
        for index_id, digest in unseen.items():
            found[index_id] = _INDEX_PLATFORMS[digest] = frozenset(fetched.get(index_id, ()))
    return found


def manifests_light() -> QuerySet[Manifest]:
    """Manifests without their raw bytes, which list pages never need."""
    return Manifest.objects.defer("raw", "config", "annotations")


def current_tag_ranking() -> list:
    """Ordering that puts an image's current tag first: `latest`, then the top-level tag pushed last."""
    return [
        Case(When(name="latest", then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
        F("updated").desc(),
        F("id").desc(),
    ]


def current_tags(images: QuerySet) -> QuerySet[Tag]:
    """One row per image of `images` that has a tag: its current tag, in one window query (no per-image subquery)."""
    return (
        Tag.objects.filter(image__in=images, derived_from__isnull=True)
        .annotate(rank=Window(RowNumber(), partition_by=[F("image_id")], order_by=current_tag_ranking()))
        .filter(rank=1)
    )
