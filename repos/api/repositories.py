"""REST: list, read, create, change and delete repositories (locals, remotes, virtuals).

The input serializers describe the fields (and the OpenAPI schema); the rules live in
`repos.services.repositories`, which every way in shares.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.response import Response

from accounts.permissions import readable_repositories
from repos.api import filters
from repos.api.serializers import RepositorySerializer
from repos.models import Repository
from repos.oci.names import KEY_PATTERN
from repos.selectors.repositories import repository_list
from repos.services import repositories as repository_services


class RepositoryInputSerializer(serializers.Serializer):
    """Every field a repository takes; which apply depends on `kind`."""

    key = serializers.CharField(max_length=64, help_text="OCI name component: the first segment of image names.")
    kind = serializers.ChoiceField(["local", "remote", "virtual"], default="local")
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    stage = serializers.CharField(required=False, allow_blank=True, max_length=32)
    stage_order = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    is_public = serializers.BooleanField(required=False)
    tag_immutability = serializers.BooleanField(required=False)
    required_platforms = serializers.ListField(child=serializers.CharField(), required=False)
    upstream_url = serializers.CharField(required=False, allow_blank=True, help_text="Remote: the upstream registry.")
    username = serializers.CharField(required=False, allow_blank=True, help_text="Remote: upstream user name.")
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Remote: upstream password or token; stored encrypted, never shown.",
    )
    library_prefix = serializers.BooleanField(required=False, help_text="Remote: `library/` for one-segment names.")
    tag_cache_seconds = serializers.IntegerField(
        required=False, min_value=0, help_text="Remote: how long a tag is served before asking again."
    )
    members = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Virtual: local and remote keys, in resolution order."
    )
    default_deployment = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="Virtual: the local that pushes land in."
    )


class RepositoryPatchSerializer(RepositoryInputSerializer):
    key = serializers.CharField(required=False)
    kind = serializers.ChoiceField(["local", "remote", "virtual"], required=False)


def _input(serializer_class, request, *, partial: bool) -> dict:
    """Only the fields the caller sent (an unknown one is an error, not silently dropped)."""
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["a JSON object is expected"]})
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    unknown = sorted(set(request.data) - set(serializer.fields))
    if unknown:
        raise ValidationError({field: ["unknown field"] for field in unknown})
    return {field: value for field, value in serializer.validated_data.items() if field in request.data}


class RepositoryViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Repositories you may read, with image and tag counts and storage used. Site admins create and
    delete them; repository admins change their settings (upstream and members: site admins)."""

    serializer_class = RepositorySerializer
    filterset_class = filters.RepositoryFilter
    lookup_field = "key"
    lookup_value_regex = KEY_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database needed
            return Repository.objects.none()
        return repository_list(repositories=readable_repositories(self.request.user))

    @extend_schema(request=RepositoryInputSerializer, responses={201: RepositorySerializer})
    def create(self, request, *args, **kwargs):
        data = _input(RepositoryInputSerializer, request, partial=False)
        repository = repository_services.repository_create(user=request.user, data=data, request=request)
        return Response(self._out(repository.key), status=status.HTTP_201_CREATED)

    @extend_schema(request=RepositoryPatchSerializer, responses=RepositorySerializer)
    def partial_update(self, request, *args, **kwargs):
        repository = self.get_object()
        data = _input(RepositoryPatchSerializer, request, partial=True)
        repository_services.repository_update(repository=repository, user=request.user, data=data, request=request)
        return Response(self._out(repository.key))

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise MethodNotAllowed(request.method, detail="use PATCH with the fields to change")
        return super().update(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "force", bool, description="Confirm deleting a repository that holds images (they go with it)."
            )
        ]
    )
    def destroy(self, request, *args, **kwargs):
        repository = self.get_object()
        force = request.query_params.get("force", "").lower() in ("1", "true", "yes")
        repository_services.repository_delete(repository=repository, user=request.user, force=force, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _out(self, key: str) -> dict:
        return RepositorySerializer(self.get_queryset().get(key=key), context=self.get_serializer_context()).data
