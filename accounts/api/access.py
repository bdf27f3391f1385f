"""REST: repository grants and visibility, API tokens, the audit log."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from accounts import errors
from accounts.api import docs
from accounts.api import serializers as s
from accounts.api.base import AccountsApiView, NotThroughApiToken, SiteAdminOnly, found_or_404
from accounts.selectors import (
    audit_events,
    grant_find,
    grants_of,
    team_find,
    token_visible_find,
    tokens_visible_to,
    user_find,
)
from accounts.services import grants as grant_services
from accounts.services import tokens as token_services
from repos.models import Repository
from repos.selectors.repositories import repositories_with_keys, repository_readable_or_404


class GrantListView(AccountsApiView):
    def _repository(self, request, key: str) -> Repository:
        repository = repository_readable_or_404(user=request.user, key=key)
        grant_services.require_repository_admin(actor=request.user, repository=repository)
        return repository

    @docs.listing(s.GrantOutput, "api_repository_grants", "permissions", "Grants on a repository (its admins)")
    def get(self, request, key: str):
        return self.paginated(grants_of(repository=self._repository(request, key)), s.GrantOutput)

    @docs.creating(
        s.GrantInput,
        s.GrantOutput,
        "api_repository_grants",
        "permissions",
        "Grant a user or team a permission on a repository",
    )
    def post(self, request, key: str):
        repository = self._repository(request, key)
        data = s.GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = team = None
        if data.validated_data.get("user"):
            user = user_find(username=data.validated_data["user"])
            if user is None:
                raise errors.InvalidRequest("unknown user", field="user")
        else:
            team = team_find(name=data.validated_data["team"])
            if team is None:
                raise errors.InvalidRequest("unknown team", field="team")
        grant = grant_services.grant_create(
            actor=request.user,
            repository=repository,
            user=user,
            team=team,
            permission=data.validated_data["permission"],
            request=request,
        )
        return Response(s.GrantOutput(grant).data, status=status.HTTP_201_CREATED)


class GrantDetailView(AccountsApiView):
    @docs.deleting("api_repository_grants", "permissions", "Remove a grant")
    def delete(self, request, key: str, pk: int):
        repository = repository_readable_or_404(user=request.user, key=key)
        grant_services.require_repository_admin(actor=request.user, repository=repository)
        grant = found_or_404(grant_find(repository=repository, pk=pk), "grant")
        grant_services.grant_delete(actor=request.user, grant=grant, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VisibilityView(AccountsApiView):
    @docs.reading(docs.VISIBILITY, "api_repository_visibility", "permissions", "Whether anonymous users may pull")
    def get(self, request, key: str):
        repository = repository_readable_or_404(user=request.user, key=key)
        return Response({"repository": repository.key, "is_public": repository.is_public})

    @docs.updating(
        s.VisibilityInput,
        docs.VISIBILITY,
        "api_repository_visibility",
        "permissions",
        "Make a repository public or private",
        method="update",
    )
    def put(self, request, key: str):
        repository = repository_readable_or_404(user=request.user, key=key)
        data = s.VisibilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        grant_services.repository_visibility_set(
            actor=request.user, repository=repository, is_public=data.validated_data["is_public"], request=request
        )
        return Response({"repository": repository.key, "is_public": repository.is_public})


class TokenListView(AccountsApiView):
    permission_classes = AccountsApiView.permission_classes + [NotThroughApiToken]

    @docs.listing(s.TokenOutput, "api_tokens", "tokens", "The caller's API tokens (site admins: every token)")
    def get(self, request):
        return self.paginated(tokens_visible_to(request.user), s.TokenOutput)

    @docs.creating(
        s.TokenCreateInput,
        docs.TokenCreated,
        "api_tokens",
        "tokens",
        "Create an API token; the answer carries its secret, this once",
    )
    def post(self, request):
        data = s.TokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        keys = data.validated_data["repositories"]
        repositories = repositories_with_keys(keys=keys)
        missing = set(keys) - {r.key for r in repositories}
        if missing:
            raise errors.InvalidRequest(f"unknown repository {sorted(missing)[0]}", field="repositories")
        token, secret = token_services.token_create(
            creator=request.user,
            name=data.validated_data["name"],
            permissions=sorted(data.validated_data["permissions"]),
            repositories=repositories,
            expires_at=timezone.now() + timedelta(days=data.validated_data["expires_in_days"]),
            request=request,
        )
        body = s.TokenOutput(token).data
        body["token"] = secret  # shown this once
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailView(AccountsApiView):
    permission_classes = AccountsApiView.permission_classes + [NotThroughApiToken]

    def _token(self, request, pk: int):
        return found_or_404(token_visible_find(actor=request.user, pk=pk), "token")

    @docs.reading(s.TokenOutput, "api_tokens", "tokens", "One API token")
    def get(self, request, pk: int):
        return Response(s.TokenOutput(self._token(request, pk)).data)

    @docs.deleting("api_tokens", "tokens", "Revoke an API token")
    def delete(self, request, pk: int):
        token_services.token_revoke(actor=request.user, token=self._token(request, pk), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventListView(AccountsApiView):
    permission_classes = AccountsApiView.permission_classes + [SiteAdminOnly]

    @docs.listing(
        s.AuditEventOutput,
        "api_audit_events",
        "audit",
        "Security events, newest first (site admins)",
        extra_parameters=[OpenApiParameter("action", str, description="Only events of this action.")],
    )
    def get(self, request):
        events = audit_events(action=request.query_params.get("action") or "")
        return self.paginated(events, s.AuditEventOutput)
