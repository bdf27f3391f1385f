"""REST: storage accounting, quota and retention per repository.

GET  /api/repositories/{key}/storage/            held, referenced and exclusive bytes, quota
GET  /api/repositories/{key}/policy/             quota and retention rules
PATCH /api/repositories/{key}/policy/            change them (quota: site admins; retention: repository admins)
GET  /api/repositories/{key}/retention/preview/  the tags a run would remove now (and the protected ones)
POST /api/repositories/{key}/retention/run/      remove them; with {"expected": preview keys} only if unchanged
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ADMIN, request_can
from config.api_errors import error_response
from repos.selectors.repositories import repository_readable_or_404
from repos.selectors.storage import repository_storage
from repos.services.retention import (
    repository_policy_update,
    retention_apply,
    retention_plan,
    retention_policy,
)


class StorageSerializer(serializers.Serializer):
    repository = serializers.CharField()
    held_bytes = serializers.IntegerField(
        help_text="Distinct blobs pushed, mounted or promoted in (what the quota counts)."
    )
    referenced_bytes = serializers.IntegerField(help_text="Distinct blobs its manifests use.")
    exclusive_bytes = serializers.IntegerField(help_text="Of those, the bytes no other repository's manifests use.")
    quota_bytes = serializers.IntegerField(allow_null=True)


class PolicySerializer(serializers.Serializer):
    quota_bytes = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    retention_enabled = serializers.BooleanField(required=False)
    retention_tag_pattern = serializers.CharField(required=False, allow_blank=True, max_length=200)
    retention_keep_newest = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    retention_max_age_days = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    retention_include_immutable = serializers.BooleanField(required=False)
    retention_include_promoted = serializers.BooleanField(required=False)


class RunSerializer(serializers.Serializer):
    expected = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The `keys` of the preview you confirm; refused (409) if they changed.",
    )


def _require_admin(request, repository) -> None:
    if not request_can(request, repository, ADMIN):
        raise PermissionDenied("admin permission on the repository is required")


def _policy_dict(policy) -> dict:
    return {name: getattr(policy, name) for name in PolicySerializer().fields.keys()}


class RepositoryStorageView(APIView):
    @extend_schema(responses=StorageSerializer)
    def get(self, request, key: str):
        storage = repository_storage(repository=repository_readable_or_404(user=request.user, key=key))
        return Response(
            {
                "repository": key,
                "held_bytes": storage.held,
                "referenced_bytes": storage.referenced,
                "exclusive_bytes": storage.exclusive,
                "quota_bytes": storage.quota,
            }
        )


class RepositoryPolicyView(APIView):
    @extend_schema(responses=PolicySerializer)
    def get(self, request, key: str):
        return Response(
            _policy_dict(retention_policy(repository=repository_readable_or_404(user=request.user, key=key)))
        )

    @extend_schema(request=PolicySerializer, responses=PolicySerializer)
    def patch(self, request, key: str):
        repository = repository_readable_or_404(user=request.user, key=key)
        _require_admin(request, repository)
        serializer = PolicySerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        unknown = sorted(set(request.data) - set(serializer.fields)) if isinstance(request.data, dict) else []
        if unknown:
            raise ValidationError({field: ["unknown field"] for field in unknown})
        fields = dict(serializer.validated_data)
        if "quota_bytes" in fields and not request.user.is_superuser:
            raise PermissionDenied("only site admins set quotas")
        return Response(_policy_dict(repository_policy_update(repository=repository, **fields)))


_RETENTION_PLAN = OpenApiResponse(description="What retention would remove and keep now (`as_dict` of the plan).")


class RetentionPreviewView(APIView):
    @extend_schema(responses={200: _RETENTION_PLAN, 404: error_response("No such repository.")})
    def get(self, request, key: str):
        repository = repository_readable_or_404(user=request.user, key=key)
        return Response(retention_plan(repository=repository).as_dict())


class RetentionRunView(APIView):
    @extend_schema(
        request=RunSerializer,
        responses={
            200: inline_serializer(
                "RetentionRunResult",
                {
                    "id": serializers.IntegerField(),
                    "removed": serializers.JSONField(),
                    "protected": serializers.JSONField(),
                },
            ),
            403: error_response("Repository admins only."),
            404: error_response("No such repository."),
            409: error_response(
                "PREVIEW_OUTDATED: the preview given as `expected` is outdated; `detail.preview` is the new one."
            ),
        },
    )
    def post(self, request, key: str):
        repository = repository_readable_or_404(user=request.user, key=key)
        _require_admin(request, repository)
        serializer = RunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = retention_apply(
            repository=repository, expected=serializer.validated_data.get("expected"), user=request.user
        )
        return Response({"id": run.pk, "removed": run.removed, "protected": run.skipped})
