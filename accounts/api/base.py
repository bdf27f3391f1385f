"""What every accounts API view shares: authenticated callers, one rendering of service errors."""

from __future__ import annotations

from rest_framework import exceptions, permissions
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts import errors
from accounts.permissions import acting_token, is_site_admin


class NotThroughApiToken(permissions.BasePermission):
    """Tokens, users and teams are managed by people signed in as themselves, never by a token."""

    message = "An API token cannot do this; sign in with your password."

    def has_permission(self, request, view):
        return acting_token(request.user) is None


class SiteAdminOnly(permissions.BasePermission):
    message = "Site administrators only."

    def has_permission(self, request, view):
        return is_site_admin(request.user)


def as_api_error(exc: errors.AccountsError) -> exceptions.APIException:
    if isinstance(exc, errors.NotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, errors.Forbidden):
        return exceptions.PermissionDenied(exc.message)
    return exceptions.ValidationError({exc.field: [exc.message]} if exc.field else [exc.message])


class AccountsApiView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def handle_exception(self, exc):
        if isinstance(exc, errors.AccountsError):
            exc = as_api_error(exc)
        return super().handle_exception(exc)

    def paginated(self, queryset, serializer_class):
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
