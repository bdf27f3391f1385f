"""The home page: repositories with counts and storage, recent pushes, pushes over time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone

from repos.models import Blob, Image, ImageManifest, Repository, RepositoryBlob, Tag


def count_related(queryset: QuerySet, path: str) -> Subquery:
    counted = (
        queryset.filter(**{path: OuterRef("pk")}).order_by().values(path)
        .annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def repositories_with_stats(*, repositories: QuerySet[Repository]) -> QuerySet[Repository]:
    """Repositories annotated with image_count, tag_count and storage (bytes of the distinct blobs they hold)."""
    storage = (
        RepositoryBlob.objects.filter(repository=OuterRef("pk")).order_by().values("repository")
        .annotate(total=Sum("blob__size")).values("total")
    )
    return repositories.annotate(
        image_count=count_related(Image.objects.all(), "repository"),
        tag_count=count_related(Tag.objects.all(), "image__repository"),
        storage=Coalesce(Subquery(storage), 0),
    ).order_by("stage_order", "key")


def images_and_tags_total(*, repositories: QuerySet[Repository]) -> tuple[int, int]:
    """Images and tags across `repositories`, which must carry repositories_with_stats' annotations."""
    totals = repositories.aggregate(images=Sum("image_count"), tags=Sum("tag_count"))
    return totals["images"] or 0, totals["tags"] or 0


def storage_total(*, repositories: QuerySet[Repository]) -> int:
    """Bytes of the distinct blobs in these repositories (a blob shared by two counts once)."""
    blob_ids = RepositoryBlob.objects.filter(repository__in=repositories).values("blob_id")
    return Blob.objects.filter(pk__in=blob_ids).aggregate(total=Sum("size"))["total"] or 0


def recent_pushes(*, repositories: QuerySet[Repository], limit: int = 10) -> list[Tag]:
    """The last top-level tags pushed (per-arch tags derived from an index are folded into it)."""
    # Sort the narrow tag rows first, then join the few kept: sorting the wide joined rows costs far more.
    latest = (
        Tag.objects.filter(image__repository__in=repositories, derived_from__isnull=True)
        .order_by("-updated", "-id").values("pk")[:limit]
    )
    return list(
        Tag.objects.filter(pk__in=latest)
        .select_related("image__repository", "pushed_by", "manifest")
        .only("name", "updated", "image__name", "image__repository__key", "pushed_by__username",
              "manifest__digest", "manifest__media_type", "manifest__content_size", "manifest__os",
              "manifest__architecture", "manifest__variant")
        .order_by("-updated", "-id")
    )


def pushes_per_day(*, repositories: QuerySet[Repository], days: int = 30) -> list[tuple[date, int]]:
    """Manifests pushed per UTC day over the last `days` days, oldest first, zero-filled."""
    today = timezone.now().astimezone(dt_timezone.utc).date()
    since = today - timedelta(days=days - 1)
    start = datetime.combine(since, time.min, tzinfo=dt_timezone.utc)
    counted = (
        ImageManifest.objects.filter(image__repository__in=repositories, pushed_at__gte=start)
        .annotate(day=_utc_day("pushed_at")).order_by().values("day").annotate(n=Count("id"))
        .values_list("day", "n")
    )
    per_day = {_as_date(day): n for day, n in counted}
    return [(since + timedelta(days=i), per_day.get(since + timedelta(days=i), 0)) for i in range(days)]


def _utc_day(field: str):
    # SQLite keeps UTC datetimes as ISO text: its first ten characters are the day, with no per-row
    # Python function (TruncDate is one there). Elsewhere the database truncates natively.
    if connection.vendor == "sqlite":
        return Substr(field, 1, 10)
    return TruncDate(field, tzinfo=dt_timezone.utc)


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
