"""REST API for builds: start one, follow it (status, progress, log from a line index), cancel it."""

from __future__ import annotations

import json

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from builds.errors import BuildInvalid
from builds.models import BuildJob
from builds.policy import build_arg_items_parse
from builds.progress import percent
from builds.selectors import build_get_visible, build_log_read, builds_listed
from builds.services.jobs import BuildRequest, build_cancel, build_create


class FlexibleListField(serializers.ListField):
    """A JSON array, a repeated multipart field, or one comma-separated value."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        if not isinstance(data, (list, tuple)):
            self.fail("not_a_list", input_type=type(data).__name__)
        items = []
        for item in data:
            items += [part.strip() for part in str(item).split(",")] if isinstance(item, str) else [item]
        return super().to_internal_value([item for item in items if item != ""])


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "KEY: VALUE, or a platform (linux/arm64) holding that platform's own arguments.",
    }
)
class BuildArgsField(serializers.Field):
    """A JSON object (a platform key holds that platform's own arguments), or KEY=VALUE and
    PLATFORM:KEY=VALUE items given like a list field."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            return {str(k): v for k, v in data.items()}
        if isinstance(data, str):
            stripped = data.strip()
            if stripped.startswith("{"):
                try:
                    return self.to_internal_value(json.loads(stripped))
                except ValueError:
                    raise serializers.ValidationError("invalid JSON object") from None
            data = [part for part in stripped.split(",") if part.strip()]
        if not isinstance(data, (list, tuple)):
            raise serializers.ValidationError("an object or a list of KEY=VALUE")
        result = {}
        for item in data:
            if isinstance(item, str) and item.strip().startswith("{"):
                result.update(self.to_internal_value(item))
                continue
            try:
                for key, value in build_arg_items_parse([item]).items():
                    result[key] = {**result[key], **value} if isinstance(result.get(key), dict) else value
            except BuildInvalid as exc:
                raise serializers.ValidationError(exc.message) from None
        return result

    def to_representation(self, value):
        return value


class BuildCreateSerializer(serializers.Serializer):
    repository = serializers.CharField(max_length=64)
    image = serializers.CharField(max_length=255)
    tags = FlexibleListField(child=serializers.CharField(max_length=128), required=False, default=list)
    platforms = FlexibleListField(child=serializers.CharField(max_length=64), required=False, default=list)
    git_url = serializers.CharField(max_length=2048, required=False, allow_blank=True, default="")
    git_ref = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    context_dir = serializers.CharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        default="",
        help_text="Sub-directory of the source used as the build context.",
    )
    context = serializers.FileField(  # type: ignore[assignment]  # a declared field, not Field.context (stubs)
        required=False, allow_null=True, default=None, help_text="A .tar, .tar.gz or .zip context archive (multipart)."
    )
    dockerfile = serializers.CharField(max_length=1024, required=False, allow_blank=True, default="Dockerfile")
    build_args = BuildArgsField(required=False, default=dict)
    target = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    builder = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    time_limit = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)

    def to_request(self) -> BuildRequest:
        data = self.validated_data
        return BuildRequest(
            repository=data["repository"],
            image=data["image"],
            tags=data["tags"],
            platforms=data["platforms"],
            git_url=data["git_url"],
            git_ref=data["git_ref"],
            context_dir=data["context_dir"],
            dockerfile=data["dockerfile"],
            build_args=data["build_args"],
            target=data["target"],
            builder=data["builder"],
            time_limit=data["time_limit"],
        )


class BuildJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    log_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by_name")
    repository = serializers.CharField(source="repository_key")
    image = serializers.CharField(source="image_name")
    target = serializers.CharField(source="target_stage")
    source = serializers.CharField(source="source_label")  # type: ignore[assignment]  # a field, not Field.source
    progress = serializers.SerializerMethodField()

    class Meta:
        model = BuildJob
        fields = [
            "id",
            "url",
            "page_url",
            "log_url",
            "status",
            "requested_by",
            "repository",
            "image",
            "tags",
            "platforms",
            "source_type",
            "source",
            "git_url",
            "git_ref",
            "context_dir",
            "archive_name",
            "source_commit",
            "dockerfile",
            "build_args",
            "target",
            "requested_builder",
            "builder",
            "worker",
            "commands",
            "progress",
            "time_limit",
            "cancel_requested",
            "index_digest",
            "platform_digests",
            "error",
            "created",
            "started",
            "finished",
        ]

    def get_url(self, job) -> str:
        return reverse("api-build-detail", kwargs={"pk": job.pk})

    def get_log_url(self, job) -> str:
        return reverse("api-build-log", kwargs={"pk": job.pk})

    def get_page_url(self, job) -> str:
        return reverse("build-detail", kwargs={"pk": job.pk})

    def get_progress(self, job) -> dict:
        return {p: {**entry, "percent": percent(entry)} for p, entry in (job.progress or {}).items()}


class BuildLogSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    next = serializers.IntegerField()
    complete = serializers.BooleanField()
    status = serializers.CharField()
    lines = serializers.ListField(child=serializers.CharField())


def _visible_or_404(request, pk) -> BuildJob:
    job = build_get_visible(user=request.user, build_id=pk)
    if job is None:
        raise NotFound("no such build")
    return job


class BuildListCreateView(GenericAPIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = BuildJobSerializer
    filter_backends = []

    def get_queryset(self):
        return builds_listed(user=self.request.user, status=self.request.query_params.get("status") or "")

    @extend_schema(
        parameters=[OpenApiParameter("status", str, description="Only builds in this status.")],
        responses={200: BuildJobSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BuildJobSerializer(page, many=True).data)

    @extend_schema(request=BuildCreateSerializer, responses={201: BuildJobSerializer})
    def post(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        body = BuildCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = build_create(user=request.user, request=body.to_request(), archive=body.validated_data["context"])
        data = BuildJobSerializer(job).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class BuildDetailView(APIView):
    @extend_schema(responses={200: BuildJobSerializer})
    def get(self, request, pk: int):
        return Response(BuildJobSerializer(_visible_or_404(request, pk)).data)


class BuildLogView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("start", int, description="Index of the first line wanted (from 0).")],
        responses={200: BuildLogSerializer},
    )
    def get(self, request, pk: int):
        job = _visible_or_404(request, pk)
        try:
            start = max(int(request.query_params.get("start", 0)), 0)
        except ValueError:
            raise ValidationError({"start": ["a line number"]}) from None
        page = build_log_read(job=job, start=start)
        return Response(
            {
                "start": page.start,
                "next": page.next,
                "complete": page.complete,
                "status": job.status,
                "lines": page.lines,
            }
        )


class BuildCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: BuildJobSerializer})
    def post(self, request, pk: int):
        job = _visible_or_404(request, pk)
        job = build_cancel(job=job, user=request.user)
        return Response(BuildJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
