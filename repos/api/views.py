"""Read-only API views: querysets come from the readable repositories only; no business logic here."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import readable_repositories
from repos.api import filters, serializers
from repos.api.pagination import StandardPagination
from repos.models import Image, ImageManifest, Manifest, ManifestLayer, ManifestListEntry, Tag
from repos.selectors.coverage import coverage_matrix
from repos.selectors.platforms import manifests_light

DIGEST_RE = r"[a-z0-9]+:[a-f0-9]{32,128}"


class _ReadOnly(viewsets.ReadOnlyModelViewSet):
    pagination_class = StandardPagination
    filter_backends = [DjangoFilterBackend]

    def readable(self):
        return readable_repositories(self.request.user)


class ImageViewSet(_ReadOnly):
    """Images with their latest tags and the platforms of their current tag."""

    serializer_class = serializers.ImageSerializer
    filterset_class = filters.ImageFilter

    def get_queryset(self):
        # Counts and platforms come per page from the serializer (image_summaries), not per row in SQL.
        return (
            Image.objects.filter(repository__in=self.readable())
            .select_related("repository")
            .order_by("repository__stage_order", "repository__key", "name")
        )


class TagViewSet(_ReadOnly):
    """Tags with the digest, platforms and size of what they point at; per-platform tags name their index tag."""

    serializer_class = serializers.TagSerializer
    filterset_class = filters.TagFilter

    def get_queryset(self):
        # Related rows are prefetched for the page rather than joined: the sort then runs on narrow tag rows.
        return (
            Tag.objects.filter(image__repository__in=self.readable())
            .prefetch_related(
                Prefetch("image", queryset=Image.objects.select_related("repository")),
                Prefetch("manifest", queryset=manifests_light()),
                "pushed_by",
                "derived_from",
                "promotion",
            )
            .order_by("-updated", "-id")
        )


class ManifestViewSet(_ReadOnly):
    """Manifests and indexes, with their children (platform images, attestations) and layers."""

    serializer_class = serializers.ManifestSerializer
    filterset_class = filters.ManifestFilter
    lookup_field = "digest"
    lookup_value_regex = DIGEST_RE

    def get_serializer_class(self):
        return serializers.ManifestSummarySerializer if self.action == "list" else serializers.ManifestSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database needed
            return Manifest.objects.none()
        # Evaluated once: as a list, the membership prefetch below uses the manifest index instead of
        # walking every membership of every readable repository.
        readable_ids = list(self.readable().values_list("pk", flat=True))
        held = ImageManifest.objects.filter(image__repository_id__in=readable_ids)
        return (
            # EXISTS, not IN: the page walks manifests newest first and stops after one page.
            Manifest.objects.filter(Exists(held.filter(manifest=OuterRef("pk"))))
            .defer("raw", *(("config",) if self.action == "list" else ()))
            .select_related("config_blob")
            .prefetch_related(
                Prefetch(
                    "entries",
                    queryset=ManifestListEntry.objects.select_related("manifest")
                    .defer("manifest__raw", "manifest__config", "manifest__annotations")
                    .order_by("position"),
                ),
                Prefetch("layers", queryset=ManifestLayer.objects.select_related("blob").order_by("position")),
                Prefetch(
                    "memberships",
                    to_attr="readable_memberships",
                    queryset=held.select_related("image__repository").order_by("image__repository__key", "image__name"),
                ),
            )
            .order_by("-id")
        )


class CoverageView(GenericAPIView):
    """Images × platforms: each cell present, missing or missing_required (the repository requires it)."""

    pagination_class = StandardPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.CoverageFilter
    serializer_class = serializers.CoverageSerializer

    def get_queryset(self):
        return Image.objects.filter(repository__in=readable_repositories(self.request.user))

    @extend_schema(
        parameters=[
            serializers.CoverageQuerySerializer,
            OpenApiParameter("repository", str, description="Repository keys, comma-separated."),
            OpenApiParameter("stage", str, description="Repository stage, e.g. prod."),
            OpenApiParameter("name", str, description="Part of the image name."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=serializers.CoverageSerializer,
    )
    def get(self, request):
        options = serializers.CoverageQuerySerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        matrix = coverage_matrix(
            images=self.filter_queryset(self.get_queryset()),
            platforms=options.validated_platforms(),
            missing=options.validated_data["missing"],
            missing_required=options.validated_data["missing_required"],
        )
        paginator = self.paginator
        rows = paginator.paginate_queryset(matrix.rows, request, view=self)
        return Response(
            {
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "platforms": matrix.platforms,
                "counts": {p: vars(c) for p, c in matrix.counts.items()},
                "images_in_scope": matrix.images_in_scope,
                "images_complete": matrix.images_complete,
                "results": serializers.CoverageRowSerializer(
                    [
                        {
                            "repository": r.repository,
                            "stage": r.stage,
                            "image": r.image,
                            "tag": r.tag,
                            "digest": r.digest,
                            "platforms": dict(r.cells),
                            "missing_required": r.missing_required,
                        }
                        for r in rows
                    ],
                    many=True,
                ).data,
            }
        )
