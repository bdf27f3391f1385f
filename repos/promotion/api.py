"""REST API for promotions: Artifactory's docker promote call, and a resource for promotion jobs."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import domain_error_body, error_response
from repos.models import PromotionJob
from repos.promotion.domain import PromotionFailed
from repos.promotion.execution import PromotionRequest, promotion_plan
from repos.promotion.jobs import promotion_job_create, promotion_job_wait
from repos.promotion.selectors import promotion_jobs_visible

Status = PromotionJob.Status


class ArtifactoryPromoteSerializer(serializers.Serializer):
    """The body of Artifactory's `POST /api/docker/{repoKey}/v2/promote`, same names and meaning."""

    targetRepo = serializers.CharField(max_length=64)
    dockerRepository = serializers.CharField(max_length=255)
    targetDockerRepository = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    tag = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    targetTag = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    copy = serializers.BooleanField(required=False, default=False)

    def to_request(self, source_key: str) -> PromotionRequest:
        data = self.validated_data
        return PromotionRequest(
            source_key=source_key,
            source_image=data["dockerRepository"],
            target_key=data["targetRepo"],
            target_image=data["targetDockerRepository"],
            source_tag=data["tag"],
            target_tag=data["targetTag"],
            copy=data["copy"],
        )


class PromotionCreateSerializer(serializers.Serializer):
    source_repository = serializers.CharField(max_length=64)
    image = serializers.CharField(max_length=255)
    target_repository = serializers.CharField(max_length=64)
    target_image = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    source_tag = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="Blank: every tag of the image."
    )
    target_tag = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    copy = serializers.BooleanField(required=False, default=False, help_text="false (default): move.")
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Only answer what would change, and which rules refuse it."
    )
    wait = serializers.BooleanField(
        required=False, default=False, help_text="Wait for the job to finish (up to PROMOTION_WAIT_SECONDS)."
    )
    expected_digest = serializers.CharField(
        max_length=140,
        required=False,
        allow_blank=True,
        default="",
        help_text="The source tag's digest as you checked it (`source_digest` of a dry run). If the tag holds "
        "another digest when the promotion is asked for or runs, it is refused: 409, rule "
        "`source-changed`, nothing changed. Needs `source_tag`.",
    )
    expected_digests = serializers.DictField(
        child=serializers.CharField(max_length=140),
        required=False,
        default=None,
        allow_null=True,
        allow_empty=True,
        help_text="Without `source_tag`: every source tag (index tags) and its digest, as a dry run's "
        "`source_digests` lists them. Refused (409, `source-changed`) if the source tags differ.",
    )

    def validate(self, data):
        if data["expected_digest"] and not data["source_tag"]:
            raise serializers.ValidationError(
                {"expected_digest": "needs source_tag (use expected_digests for every tag)"}
            )
        if data["expected_digest"] and data["expected_digests"] is not None:
            raise serializers.ValidationError({"expected_digests": "give expected_digest or expected_digests"})
        return data

    def to_request(self) -> PromotionRequest:
        data = self.validated_data
        expected = data["expected_digests"]
        if data["expected_digest"]:
            expected = {data["source_tag"]: data["expected_digest"]}
        return PromotionRequest(
            source_key=data["source_repository"],
            source_image=data["image"],
            target_key=data["target_repository"],
            target_image=data["target_image"],
            source_tag=data["source_tag"],
            target_tag=data["target_tag"],
            copy=data["copy"],
            expected_digests=expected,
        )


class PromotionJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by_name")
    source = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.source (stubs)
    target = serializers.CharField()
    mode = serializers.CharField()

    class Meta:
        model = PromotionJob
        fields = [
            "id",
            "url",
            "status",
            "mode",
            "source",
            "target",
            "source_key",
            "source_image",
            "source_tag",
            "target_key",
            "target_image",
            "target_tag",
            "copy",
            "requested_by",
            "created",
            "started",
            "finished",
            "attempts",
            "expected_digests",
            "error_code",
            "error",
            "result",
        ]

    def get_url(self, job) -> str:
        return reverse("api-promotion-detail", kwargs={"pk": job.pk})


PROMOTION_ERRORS = {
    404: error_response("NOT_FOUND: no such repository or image (or not visible to the caller)."),
    409: error_response(
        "PROMOTION_REFUSED: a rule refuses it, nothing changed; `detail.refusals` lists each `rule` with its "
        "message and detail (403 when the rule is `permission`). A failed job's answer carries it as `job` too."
    ),
}


def job_response(job: PromotionJob) -> Response:
    data = PromotionJobSerializer(job).data
    location = {"Location": data["url"]}
    if job.status == Status.SUCCEEDED:
        return Response({"message": "Promotion ended successfully", **data}, status=status.HTTP_200_OK)
    if job.status == Status.FAILED:
        # The error envelope, with the failed job beside it (Artifactory's promote answers the same way).
        failure = PromotionFailed.of(job)
        return Response({**domain_error_body(failure), "job": data}, status=failure.status, headers=location)
    return Response(
        {"message": "Promotion queued; follow the job URL", **data}, status=status.HTTP_202_ACCEPTED, headers=location
    )


class ArtifactoryPromoteView(APIView):
    """`POST /api/docker/{repoKey}/v2/promote` (also under /artifactory): waits for the job, 200 on success."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ArtifactoryPromoteSerializer, responses={200: PromotionJobSerializer, **PROMOTION_ERRORS})
    def post(self, request, repo_key: str):
        body = ArtifactoryPromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = promotion_job_create(request=body.to_request(repo_key), user=request.user)
        return job_response(promotion_job_wait(job=job, timeout=settings.PROMOTION_WAIT_SECONDS))


class PromotionJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Promotion jobs: create (or preview with dry_run), list, and each job's status and result.

    `?digest=sha256:...` lists the promotions that brought this digest somewhere: the audit ledger.
    """

    serializer_class = PromotionJobSerializer
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "digest", str, description="Only promotions that brought this digest somewhere (the ledger)."
            ),
            OpenApiParameter("status", str, enum=Status.values),
            OpenApiParameter("repository", str, description="Source or target repository key."),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        return promotion_jobs_visible(
            user=self.request.user,
            digest=params.get("digest", ""),
            status=params.get("status", ""),
            repository=params.get("repository", ""),
        )

    @extend_schema(
        request=PromotionCreateSerializer,
        responses={200: PromotionJobSerializer, 202: PromotionJobSerializer, **PROMOTION_ERRORS},
    )
    def create(self, request):
        body = PromotionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["dry_run"]:
            plan = promotion_plan(request=body.to_request(), user=request.user)
            return Response({"dry_run": True, **plan.as_dict()}, status=200)
        job = promotion_job_create(request=body.to_request(), user=request.user)
        if body.validated_data["wait"]:
            job = promotion_job_wait(job=job, timeout=settings.PROMOTION_WAIT_SECONDS)
        return job_response(job)
