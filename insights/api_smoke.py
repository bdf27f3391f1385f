"""REST API of smoke tests: a repository's definition (`/api/repositories/{key}/smoke-test/`) and the runs
with their per-platform results (`/api/smoke-tests/`, POST to run again). Services hold the rules."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from insights import selectors
from insights.models import SmokeTest, SmokeTestResult, SmokeTestRun
from insights.services.smoke_tests import smoke_test_delete, smoke_test_run_again, smoke_test_save
from repos.models import Repository
from repos.selectors.repositories import repository_readable_or_404


class SmokeTestSerializer(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.key", read_only=True)
    command = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        min_length=1,
        help_text='The argument list run in every platform image, the program first, e.g. ["/app", "--version"]. '
        "It replaces the image's entrypoint and command.",
    )
    expected_exit_code = serializers.IntegerField(min_value=0, max_value=255, default=0)
    output_pattern = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=500,
        help_text="A regular expression (Python syntax, multi-line) the output must contain; blank: not checked.",
    )
    time_limit_seconds = serializers.IntegerField(
        min_value=1, default=settings.SMOKE_TEST_DEFAULT_SECONDS, help_text="The container is killed past it."
    )
    required_for_promotion = serializers.BooleanField(
        default=False,
        help_text="Promotions into this repository need a pass on every platform (promotion rule smoke-test).",
    )
    fingerprint = serializers.CharField(
        read_only=True, help_text="Same definition, same fingerprint: results count across repositories."
    )

    class Meta:
        model = SmokeTest
        fields = [
            "repository",
            "command",
            "expected_exit_code",
            "output_pattern",
            "time_limit_seconds",
            "required_for_promotion",
            "fingerprint",
            "updated",
        ]
        read_only_fields = ["updated"]


class SmokeTestResultSerializer(serializers.ModelSerializer):
    digest = serializers.CharField(source="manifest_digest", help_text="The platform image's digest.")
    reason = serializers.ChoiceField(
        choices=SmokeTestResult.Reason.values, help_text="Why it failed; blank when it passed or is pending."
    )

    class Meta:
        model = SmokeTestResult
        fields = [
            "platform",
            "digest",
            "status",
            "reason",
            "detail",
            "exit_code",
            "duration_ms",
            "output",
            "finished_at",
        ]


class SmokeTestRunSerializer(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.key")
    image = serializers.CharField(source="image.name")
    test_repository = serializers.CharField(source="test_repository.key", default=None, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", default=None, allow_null=True)
    results = SmokeTestResultSerializer(many=True, read_only=True)

    class Meta:
        model = SmokeTestRun
        fields = [
            "id",
            "repository",
            "image",
            "tag",
            "digest",
            "test_repository",
            "definition",
            "fingerprint",
            "status",
            "trigger",
            "requested_by",
            "error",
            "created",
            "started_at",
            "finished_at",
            "results",
        ]


class RunAgainSerializer(serializers.Serializer):
    repository = serializers.CharField(max_length=64)
    image = serializers.CharField(max_length=255)
    tag = serializers.CharField(max_length=128)
    test_repository = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Run this repository's smoke test instead of the tag repository's (e.g. the promotion target's).",
    )


class SmokeTestDefinitionView(APIView):
    """A repository's smoke test: read it (read access), set it with PUT or remove it (repository admins)."""

    def _repository(self, key: str) -> Repository:
        return repository_readable_or_404(user=self.request.user, key=key)

    @extend_schema(responses=SmokeTestSerializer)
    def get(self, request, key: str):
        test = selectors.smoke_test_of(repository=self._repository(key))
        if test is None:
            raise exceptions.NotFound(f"{key} has no smoke test")
        return Response(SmokeTestSerializer(test).data)

    @extend_schema(request=SmokeTestSerializer, responses=SmokeTestSerializer)
    def put(self, request, key: str):
        repository = self._repository(key)
        body = SmokeTestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        test = smoke_test_save(actor=request.user, repository=repository, data=dict(body.validated_data))
        return Response(SmokeTestSerializer(test).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, key: str):
        smoke_test_delete(actor=request.user, repository=self._repository(key))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SmokeTestRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Smoke test runs with per-platform results, newest first, in the repositories you may read."""

    serializer_class = SmokeTestRunSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SmokeTestRun.objects.none()
        params = self.request.query_params
        run_status = params.get("status", "")
        if run_status and run_status not in SmokeTestRun.Status.values:
            raise exceptions.ValidationError({"status": [f"one of {', '.join(SmokeTestRun.Status.values)}"]})
        return selectors.smoke_runs_filtered(
            self.request.user,
            repository=params.get("repository", ""),
            image=params.get("image", ""),
            tag=params.get("tag", ""),
            digest=params.get("digest", ""),
            status=run_status,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("repository", str),
            OpenApiParameter("image", str),
            OpenApiParameter("tag", str),
            OpenApiParameter("digest", str, description="The tested index or manifest digest."),
            OpenApiParameter("status", str, enum=SmokeTestRun.Status.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RunAgainSerializer, responses={202: SmokeTestRunSerializer})
    def create(self, request, *args, **kwargs):
        """Run the smoke test again on what the tag holds now (write access to its repository)."""
        if not IsAuthenticated().has_permission(request, self):
            raise exceptions.NotAuthenticated()
        body = RunAgainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        run = smoke_test_run_again(
            actor=request.user,
            repository_key=data["repository"],
            image=data["image"],
            tag=data["tag"],
            test_repository_key=data.get("test_repository", ""),
        )
        return Response(SmokeTestRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
