"""A repository's images and an image's tags, with platforms and sizes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from repos.models import Image, Repository, Tag
from repos.selectors.platforms import ManifestPlatforms, current_tags, manifests_light, platforms_of

LATEST_TAGS_SHOWN = 3


@dataclass
class ImageSummary:
    image: Image
    latest_tags: list[str]
    tag_count: int
    platforms: ManifestPlatforms
    size: int | None
    current_digest: str | None


def images_in(*, repositories: QuerySet[Repository]) -> QuerySet[Image]:
    """Every image of `repositories`, unordered (the caller filters and sorts)."""
    return Image.objects.filter(repository__in=repositories)


def image_list(*, repositories: QuerySet[Repository]) -> QuerySet[Image]:
    """The API's image list: by stage, repository and name."""
    # Counts and platforms come per page from `image_summaries`, not per row in SQL.
    return (
        images_in(repositories=repositories)
        .select_related("repository")
        .order_by("repository__stage_order", "repository__key", "name")
    )


def tag_list(*, repositories: QuerySet[Repository]) -> QuerySet[Tag]:
    """The API's tag list, newest first, with image, manifest (no raw bytes), pusher, index tag and promotion."""
    # Related rows are prefetched for the page rather than joined: the sort then runs on narrow tag rows.
    return (
        Tag.objects.filter(image__repository__in=repositories)
        .prefetch_related(
            Prefetch("image", queryset=Image.objects.select_related("repository")),
            Prefetch("manifest", queryset=manifests_light()),
            "pushed_by",
            "derived_from",
            "promotion",
        )
        .order_by("-updated", "-id")
    )


def repository_images(*, repository: Repository, name: str = "") -> QuerySet[Image]:
    images = Image.objects.filter(repository=repository)
    if name:
        images = images.filter(name__icontains=name)
    # No per-row annotation: SQLite would compute it for every image before sorting and slicing the page.
    return images.order_by("name")


def image_summaries(images: list[Image]) -> list[ImageSummary]:
    """Tag count, latest tags, platforms and size of each image's current tag; five queries for any number."""
    ids = [image.id for image in images]
    latest: dict[int, list[str]] = defaultdict(list)
    if ids:
        ranked = (
            Tag.objects.filter(image_id__in=ids, derived_from__isnull=True)
            .annotate(
                rank=Window(RowNumber(), partition_by=[F("image_id")], order_by=[F("updated").desc(), F("id").desc()])
            )
            .filter(rank__lte=LATEST_TAGS_SHOWN)
            .order_by("image_id", "rank")
            .values_list("image_id", "name")
        )
        for image_id, tag_name in ranked:
            latest[image_id].append(tag_name)
    counts = (
        dict(
            Tag.objects.filter(image_id__in=ids)
            .order_by()
            .values("image_id")
            .annotate(n=Count("id"))
            .values_list("image_id", "n")
        )
        if ids
        else {}
    )
    current = dict(current_tags(Image.objects.filter(id__in=ids)).values_list("image_id", "manifest_id")) if ids else {}
    manifest_ids = set(current.values())
    manifests = {m.id: m for m in manifests_light().filter(id__in=manifest_ids)} if manifest_ids else {}
    platforms = platforms_of(manifests.values())
    summaries = []
    for image in images:
        manifest_id = current.get(image.id)
        manifest = manifests.get(manifest_id) if manifest_id is not None else None
        summaries.append(
            ImageSummary(
                image=image,
                latest_tags=latest.get(image.id, []),
                tag_count=counts.get(image.id, 0),
                platforms=platforms.get(manifest.id, ManifestPlatforms()) if manifest else ManifestPlatforms(),
                size=manifest.content_size if manifest else None,
                current_digest=manifest.digest if manifest else None,
            )
        )
    return summaries


@dataclass
class TagRow:
    tag: Tag
    platforms: ManifestPlatforms
    derived: list[Tag] = field(default_factory=list)


def image_tags(*, image: Image, name: str = "") -> QuerySet[Tag]:
    """Top-level tags (index tags and tags pushed on their own); derived per-arch tags come with their index tag."""
    tags = Tag.objects.filter(image=image, derived_from__isnull=True)
    if name:
        tags = tags.filter(name__icontains=name)
    return (
        tags.select_related("manifest", "pushed_by")
        .defer("manifest__raw", "manifest__config", "manifest__annotations")
        .order_by("-updated", "-id")
    )


def tag_rows(tags: list[Tag]) -> list[TagRow]:
    """Platforms per tag and the per-arch tags derived from it; two queries."""
    platforms = platforms_of(tag.manifest for tag in tags)
    derived: dict[int | None, list[Tag]] = defaultdict(list)
    if tags:
        for child in (
            Tag.objects.filter(derived_from__in=[t.id for t in tags])
            .only("name", "derived_from_id", "manifest_id")
            .order_by("name")
        ):
            derived[child.derived_from_id].append(child)
    return [TagRow(tag=tag, platforms=platforms[tag.manifest.id], derived=derived.get(tag.id, [])) for tag in tags]
