"""Query filters of the API lists (django-filter)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q

from repos.models import Image, ImageManifest, Manifest, Repository, Tag
from repos.oci.platforms import parse_platform


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """`?repository=a,b` matches either."""


def _platform_q(value: str, prefix: str = "") -> Q | None:
    try:
        os, architecture, variant = parse_platform(value.strip().lower())
    except ValueError:
        return None
    fields = {"os": os, "architecture": architecture, **({"variant": variant} if variant else {})}
    return Q(**{f"{prefix}{k}": v for k, v in fields.items()})


class RepositoryFilter(filters.FilterSet):
    key = CharInFilter(field_name="key", help_text="Repository keys, comma-separated.")
    stage = filters.CharFilter(field_name="stage")
    is_public = filters.BooleanFilter(field_name="is_public")
    kind = filters.ChoiceFilter(field_name="kind", choices=Repository.Kind.choices)

    class Meta:
        model = Repository
        fields = ["key", "stage", "is_public", "kind"]


class ImageFilter(filters.FilterSet):
    """Images by repository, stage and part of the name: the image list, and which images the coverage covers."""

    repository = CharInFilter(field_name="repository__key", help_text="Repository keys, comma-separated.")
    stage = filters.CharFilter(field_name="repository__stage")
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the image name.")

    class Meta:
        model = Image
        fields = ["repository", "stage", "name"]


class TagFilter(filters.FilterSet):
    repository = CharInFilter(field_name="image__repository__key")
    image = filters.CharFilter(field_name="image__name", help_text="Image name, e.g. team/app.")
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the tag name.")
    digest = filters.CharFilter(
        field_name="manifest__digest",
        lookup_expr="startswith",
        help_text="Digest of the manifest the tag points at (full or a prefix).",
    )
    derived = filters.BooleanFilter(
        field_name="derived_from",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: only per-platform tags derived from an index tag; false: only the others.",
    )

    class Meta:
        model = Tag
        fields = ["repository", "image", "name", "digest", "derived"]


class ManifestFilter(filters.FilterSet):
    repository = filters.CharFilter(method="filter_repository", help_text="Repository key holding the manifest.")
    image = filters.CharFilter(method="filter_image", help_text="Image name holding the manifest.")
    digest = filters.CharFilter(field_name="digest", lookup_expr="startswith")
    media_type = filters.CharFilter(field_name="media_type")
    artifact_type = filters.CharFilter(field_name="artifact_type")
    subject = filters.CharFilter(field_name="subject_digest", help_text="Referrers of this digest.")
    platform = filters.CharFilter(method="filter_platform", help_text="os/architecture[/variant], e.g. linux/arm64.")

    class Meta:
        model = Manifest
        fields = ["repository", "image", "digest", "media_type", "artifact_type", "subject", "platform"]

    def filter_repository(self, queryset, name, value):
        held = ImageManifest.objects.filter(image__repository__key=value).values("manifest_id")
        return queryset.filter(pk__in=held)

    def filter_image(self, queryset, name, value):
        held = ImageManifest.objects.filter(image__name=value).values("manifest_id")
        return queryset.filter(pk__in=held)

    def filter_platform(self, queryset, name, value):
        condition = _platform_q(value)
        return queryset.filter(condition) if condition is not None else queryset.none()
