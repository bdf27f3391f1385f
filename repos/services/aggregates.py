"""Keep the dashboard's aggregates in step with content: one ImageCoverage row per image (refreshed on every
tag or image write), and RepositoryStats / SiteStats rows flagged dirty on writes, recomputed by their reader.

Signals cover every ORM path that saves or deletes a Tag or an Image one by one (pushes, promotions,
builds, deletes, cascades); bulk writers (seeding) call `image_coverage_refresh` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Subquery, Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from repos.models import (
    Blob,
    Image,
    ImageCoverage,
    ImageManifest,
    Repository,
    RepositoryBlob,
    RepositoryStats,
    SiteStats,
    Tag,
)
from repos.selectors.home import utc_day

BATCH = 500


def image_coverage_refresh(*, image_ids: Iterable[int]) -> None:
    """Recompute the coverage rows of these images from their current tags (deleted images are skipped)."""
    from repos.selectors.coverage import current_coverage

    ids = list(dict.fromkeys(image_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = current_coverage(Image.objects.filter(pk__in=chunk))
        ImageCoverage.objects.bulk_create(
            [
                ImageCoverage(
                    image_id=r.image_id,
                    repository_id=r.repository_id,
                    tag=r.tag or "",
                    digest=r.digest or "",
                    platforms="," + "".join(f"{p}," for p in sorted(r.present)),
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["image"],
            update_fields=["repository", "tag", "digest", "platforms"],
        )


def image_coverage_rebuild() -> None:
    """Every row from scratch (after a migration or to repair)."""
    ImageCoverage.objects.exclude(image__in=Image.objects.all()).delete()
    image_coverage_refresh(image_ids=Image.objects.order_by("pk").values_list("pk", flat=True))


@receiver(post_save, sender=Tag, dispatch_uid="coverage-tag-saved")
@receiver(post_delete, sender=Tag, dispatch_uid="coverage-tag-deleted")
def _tag_written(sender, instance: Tag, origin=None, **kwargs) -> None:
    if instance.derived_from_id is not None:  # per-platform tags never are an image's current tag
        return
    if origin is not None and getattr(origin, "model", type(origin)) is not Tag:
        return  # the image (or its repository) is being deleted: its coverage row goes with it
    image_coverage_refresh(image_ids=[instance.image_id])


@receiver(post_save, sender=Image, dispatch_uid="coverage-image-saved")
def _image_saved(sender, instance: Image, created: bool, **kwargs) -> None:
    if created:
        image_coverage_refresh(image_ids=[instance.pk])


# Repository counters: writes flag the row, the next reader recomputes it (repository_stats_current).


def repository_stats_mark(*, repository_ids: Iterable[int], site: bool = False) -> None:
    ids = [pk for pk in set(repository_ids) if pk is not None]
    if ids:
        RepositoryStats.objects.filter(repository_id__in=ids, dirty=False).update(dirty=True)
    if site:
        SiteStats.objects.filter(pk=1, dirty=False).update(dirty=True)


def _mark_for_image(image_id: int, *, site: bool = False) -> None:
    RepositoryStats.objects.filter(
        repository_id=Subquery(Image.objects.filter(pk=image_id).values("repository_id")[:1]),
        dirty=False,
    ).update(dirty=True)
    if site:
        SiteStats.objects.filter(pk=1, dirty=False).update(dirty=True)


def _whole_repository_going(origin) -> bool:
    # Deleting a repository deletes its stats row too: flagging it for each of its rows would be waste.
    return origin is not None and getattr(origin, "model", type(origin)) is Repository


@receiver(post_save, sender=Image, dispatch_uid="stats-image-saved")
@receiver(post_delete, sender=Image, dispatch_uid="stats-image-deleted")
def _image_counted(sender, instance: Image, origin=None, **kwargs) -> None:
    if kwargs.get("created", True) and not _whole_repository_going(origin):
        repository_stats_mark(repository_ids=[instance.repository_id])


@receiver(post_save, sender=Tag, dispatch_uid="stats-tag-saved")
@receiver(post_delete, sender=Tag, dispatch_uid="stats-tag-deleted")
def _tag_counted(sender, instance: Tag, origin=None, **kwargs) -> None:
    if kwargs.get("created", True) and not _whole_repository_going(origin):
        _mark_for_image(instance.image_id)


@receiver(post_save, sender=ImageManifest, dispatch_uid="stats-push-saved")
@receiver(post_delete, sender=ImageManifest, dispatch_uid="stats-push-deleted")
def _push_counted(sender, instance: ImageManifest, origin=None, **kwargs) -> None:
    # The site's count of held manifests may change with any membership written or deleted.
    if _whole_repository_going(origin):
        SiteStats.objects.filter(pk=1, dirty=False).update(dirty=True)
    else:
        _mark_for_image(instance.image_id, site=kwargs.get("created", True))


@receiver(post_save, sender=RepositoryBlob, dispatch_uid="stats-blob-linked")
@receiver(post_delete, sender=RepositoryBlob, dispatch_uid="stats-blob-unlinked")
def _blob_counted(sender, instance: RepositoryBlob, origin=None, **kwargs) -> None:
    if kwargs.get("created", True):
        if _whole_repository_going(origin):
            SiteStats.objects.filter(pk=1, dirty=False).update(dirty=True)
        else:
            repository_stats_mark(repository_ids=[instance.repository_id], site=True)


PUSH_HISTORY_DAYS = 60


def repository_stats_refresh(*, repository_ids: Iterable[int]) -> None:
    """Make the stats of these repositories current: create missing rows, recompute the dirty ones.

    The dirty flag is cleared *before* counting, so a write landing meanwhile flags the row again and the
    next reader recounts: a row is never left clean but stale.
    """
    ids = list(repository_ids)
    known = dict(RepositoryStats.objects.filter(repository_id__in=ids).values_list("pk", "dirty"))
    missing = [pk for pk in ids if pk not in known]
    if missing:
        RepositoryStats.objects.bulk_create(
            [RepositoryStats(repository_id=pk) for pk in missing], ignore_conflicts=True
        )
    dirty = [*missing, *(pk for pk, flagged in known.items() if flagged)]
    if dirty:
        # Claim first (clear the flag), then count: a write landing meanwhile flags the row again.
        RepositoryStats.objects.filter(repository_id__in=dirty).update(dirty=False)
        RepositoryStats.objects.bulk_update(_count_repositories(dirty), FIELDS)


def site_stats_current() -> SiteStats:
    """The site-wide figures, recomputed first when a write flagged them."""
    stats = SiteStats.objects.filter(pk=1).first() or SiteStats.objects.get_or_create(pk=1)[0]
    if stats.dirty and SiteStats.objects.filter(pk=1, dirty=True).update(dirty=False):
        linked = RepositoryBlob.objects.values("blob_id")
        stats.storage = Blob.objects.filter(pk__in=linked).aggregate(total=Sum("size"))["total"] or 0
        stats.manifest_count = ImageManifest.objects.order_by().values("manifest_id").distinct().count()
        SiteStats.objects.filter(pk=1).update(storage=stats.storage, manifest_count=stats.manifest_count)
    return stats


def site_storage_current() -> int:
    """Bytes of the distinct blobs held by any repository."""
    return site_stats_current().storage


def site_manifest_count_current() -> int:
    """Distinct manifests held by any image."""
    return site_stats_current().manifest_count


FIELDS = ["image_count", "tag_count", "storage", "pushes_by_day"]


def _count_repositories(ids: list[int]) -> list[RepositoryStats]:
    """Fresh counts for these repositories in four grouped queries, whatever their number."""

    def grouped(queryset, field: str, value) -> dict:
        return dict(queryset.order_by().values(field).annotate(n=value).values_list(field, "n"))

    images = grouped(Image.objects.filter(repository_id__in=ids), "repository_id", Count("id"))
    tags = grouped(Tag.objects.filter(image__repository_id__in=ids), "image__repository_id", Count("id"))
    storage = grouped(RepositoryBlob.objects.filter(repository_id__in=ids), "repository_id", Sum("blob__size"))
    since = timezone.now() - timedelta(days=PUSH_HISTORY_DAYS)
    pushes: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for repository_id, day, n in (
        ImageManifest.objects.filter(image__repository_id__in=ids, pushed_at__gte=since)
        .annotate(day=utc_day("pushed_at"))
        .order_by()
        .values("image__repository_id", "day")
        .annotate(n=Count("id"))
        .values_list("image__repository_id", "day", "n")
    ):
        pushes[repository_id][str(day)[:10]] = n
    return [
        RepositoryStats(
            repository_id=pk,
            image_count=images.get(pk, 0),
            tag_count=tags.get(pk, 0),
            storage=storage.get(pk) or 0,
            pushes_by_day=pushes[pk],
        )
        for pk in ids
    ]
