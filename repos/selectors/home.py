"""The home page: repositories with counts and storage, recent pushes, pushes over time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, timedelta

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone

from repos.models import Blob, Repository, RepositoryBlob, RepositoryStats, Tag


def count_related(queryset: QuerySet, path: str) -> Coalesce:
    counted = queryset.filter(**{path: OuterRef("pk")}).order_by().values(path).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def repositories_with_stats(*, repositories: QuerySet[Repository]) -> QuerySet[Repository]:
    """Repositories annotated with image_count, tag_count and storage (bytes of the distinct blobs they hold).

    Read from RepositoryStats, made current first (a read-through cache: only rows flagged by a write since
    the last read are recounted).
    """
    from repos.services.aggregates import repository_stats_refresh

    repository_stats_refresh(repository_ids=repositories.values_list("pk", flat=True))
    return repositories.annotate(
        image_count=Coalesce(F("stats__image_count"), 0),
        tag_count=Coalesce(F("stats__tag_count"), 0),
        storage=Coalesce(F("stats__storage"), 0),
    ).order_by("stage_order", "key")


def images_and_tags_total(*, repositories: QuerySet[Repository]) -> tuple[int, int]:
    """Images and tags across `repositories`, which must carry repositories_with_stats' annotations."""
    totals = repositories.aggregate(images=Sum("image_count"), tags=Sum("tag_count"))
    return totals["images"] or 0, totals["tags"] or 0


def storage_total(*, repositories: QuerySet[Repository], site_storage: Callable[[], int] | None = None) -> int:
    """Bytes of the distinct blobs in these repositories (a blob shared by two counts once).

    `site_storage()`, the kept figure over every repository, answers when `repositories` is all of them.
    """
    if site_storage is not None and not Repository.objects.exclude(pk__in=repositories.values("pk")).exists():
        return site_storage()
    blob_ids = RepositoryBlob.objects.filter(repository__in=repositories).values("blob_id")
    return Blob.objects.filter(pk__in=blob_ids).aggregate(total=Sum("size"))["total"] or 0


def recent_pushes(*, repositories: QuerySet[Repository], limit: int = 10) -> list[Tag]:
    """The last top-level tags pushed (per-arch tags derived from an index are folded into it)."""
    # Sort the narrow tag rows first, then join the few kept: sorting the wide joined rows costs far more.
    latest = (
        Tag.objects.filter(image__repository__in=repositories, derived_from__isnull=True)
        .order_by("-updated", "-id")
        .values("pk")[:limit]
    )
    return list(
        Tag.objects.filter(pk__in=latest)
        .select_related("image__repository", "pushed_by", "manifest")
        .only(
            "name",
            "updated",
            "image__name",
            "image__repository__key",
            "pushed_by__username",
            "manifest__digest",
            "manifest__media_type",
            "manifest__content_size",
            "manifest__os",
            "manifest__architecture",
            "manifest__variant",
        )
        .order_by("-updated", "-id")
    )


def pushes_per_day(*, repositories: QuerySet[Repository], days: int = 30) -> list[tuple[date, int]]:
    """Manifests pushed per UTC day over the last `days` days, oldest first, zero-filled (from RepositoryStats)."""
    today = timezone.now().astimezone(UTC).date()
    since = today - timedelta(days=days - 1)
    per_day: dict[str, int] = {}
    for histogram in RepositoryStats.objects.filter(repository__in=repositories).values_list(
        "pushes_by_day", flat=True
    ):
        for day, n in (histogram or {}).items():
            per_day[day] = per_day.get(day, 0) + n
    return [(since + timedelta(days=i), per_day.get((since + timedelta(days=i)).isoformat(), 0)) for i in range(days)]


def utc_day(field: str):
    return _utc_day(field)


def _utc_day(field: str):
    # SQLite keeps UTC datetimes as ISO text: its first ten characters are the day, with no per-row
    # Python function (TruncDate is one there). Elsewhere the database truncates natively.
    if connection.vendor == "sqlite":
        return Substr(field, 1, 10)
    return TruncDate(field, tzinfo=UTC)
