"""`GET /api/stages/?image=NAME`: one image's tags across the pipeline's repositories, as the stage view shows."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import readable_repositories
from repos.oci import names
from repos.selectors.stages import ROWS_PER_PAGE, STATES, stage_grid


class StageRepositorySerializer(serializers.Serializer):
    key = serializers.CharField()
    stage = serializers.CharField()
    stage_order = serializers.IntegerField()


class StageCellSerializer(serializers.Serializer):
    repository = serializers.CharField()
    state = serializers.ChoiceField(
        choices=STATES,
        help_text="Compared with the same tag in the previous stage: same, different, new (the previous stage "
        "lacks it), absent (this stage lacks it); present in the first stage.",
    )
    digest = serializers.CharField(allow_null=True, help_text="null when absent")
    platforms = serializers.ListField(child=serializers.CharField())
    attestations = serializers.IntegerField()


class StageRowSerializer(serializers.Serializer):
    tag = serializers.CharField()
    cells = StageCellSerializer(many=True, help_text="One per repository, in the order of `repositories`.")
    next_promotion = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="{source_repository, target_repository}: the first stage step this tag has not taken; null "
        "when every stage matches. POST it to /api/promotions/ with image and source_tag.",
    )


class StageGridSerializer(serializers.Serializer):
    image = serializers.CharField()
    repositories = StageRepositorySerializer(many=True, help_text="Local repositories in stage order.")
    count = serializers.IntegerField(help_text="Tags in all (rows over every page).")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = StageRowSerializer(many=True)


class StageGridView(APIView):
    """One image across the stages: rows are its tags (index tags and single-platform tags), columns the local
    repositories you may read in stage order, each cell the digest and platforms marked against the stage before."""

    @extend_schema(
        parameters=[
            OpenApiParameter("image", str, required=True, description="Image name, e.g. multiarch-image or team/app."),
            OpenApiParameter("page", int, description=f"Page of {ROWS_PER_PAGE} tags, by name."),
        ],
        responses=StageGridSerializer,
    )
    def get(self, request):
        image = request.query_params.get("image", "").strip()
        if not names.is_valid_name(image):
            raise serializers.ValidationError({"image": "a valid image name is required"})
        grid = stage_grid(
            repositories=readable_repositories(request.user), image=image, page_number=request.query_params.get("page")
        )
        if grid is None:
            raise Http404("no stage holds this image")
        return Response(
            StageGridSerializer(
                {
                    "image": grid.image,
                    "repositories": grid.repositories,
                    "count": grid.page.paginator.count,
                    "page": grid.page.number,
                    "pages": grid.page.paginator.num_pages,
                    "results": [
                        {
                            "tag": row.tag,
                            "cells": [{**vars(cell), "digest": cell.digest or None} for cell in row.cells],
                            "next_promotion": {
                                "source_repository": row.promote_from,
                                "target_repository": row.promote_to,
                            }
                            if row.promote_to
                            else None,
                        }
                        for row in grid.rows
                    ],
                }
            ).data
        )
