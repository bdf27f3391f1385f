"""Read-only API views: querysets come from the readable repositories only; no business logic here."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import readable_repositories
from repos.api import filters, serializers
from repos.models import Manifest
from repos.oci.digests import SUPPORTED_DIGEST_PATTERN
from repos.selectors.coverage import coverage_matrix
from repos.selectors.home import images_and_tags_total, repositories_with_stats
from repos.selectors.images import image_list, images_in, tag_list
from repos.selectors.manifests import manifest_list, manifests_held_count
from repos.services.aggregates import site_manifest_count_current


class _ReadOnly(viewsets.ReadOnlyModelViewSet):
    filter_backends = [DjangoFilterBackend]

    def readable(self):
        return readable_repositories(self.request.user)


class ImageViewSet(_ReadOnly):
    """Images with their latest tags and the platforms of their current tag."""

    serializer_class = serializers.ImageSerializer
    filterset_class = filters.ImageFilter

    def get_queryset(self):
        return image_list(repositories=self.readable())

    def kept_count(self) -> int:
        """Images in the readable repositories, from their kept counters."""
        return images_and_tags_total(repositories=repositories_with_stats(repositories=self.readable()))[0]


class TagViewSet(_ReadOnly):
    """Tags with the digest, platforms and size of what they point at; per-platform tags name their index tag."""

    serializer_class = serializers.TagSerializer
    filterset_class = filters.TagFilter

    def get_queryset(self):
        return tag_list(repositories=self.readable())

    def kept_count(self) -> int:
        """Tags in the readable repositories, from their kept counters."""
        return images_and_tags_total(repositories=repositories_with_stats(repositories=self.readable()))[1]


class ManifestViewSet(_ReadOnly):
    """Manifests and indexes, with their children (platform images, attestations) and layers."""

    serializer_class = serializers.ManifestSerializer
    filterset_class = filters.ManifestFilter
    lookup_field = "digest"
    lookup_value_regex = SUPPORTED_DIGEST_PATTERN

    def get_serializer_class(self):
        return serializers.ManifestSummarySerializer if self.action == "list" else serializers.ManifestSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database needed
            return Manifest.objects.none()
        return manifest_list(repositories=self.readable(), with_config=self.action != "list")

    def kept_count(self) -> int | None:
        return manifests_held_count(repositories=self.readable(), site_count=site_manifest_count_current)


class CoverageView(GenericAPIView):
    """Images × platforms: each cell present, missing or missing_required (the repository requires it)."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ImageFilter  # which images it covers; the matrix options: CoverageQuerySerializer
    serializer_class = serializers.CoverageSerializer

    def get_queryset(self):
        return images_in(repositories=readable_repositories(self.request.user))

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
