"""What every accounts API view shares: authenticated callers, one pager, one 404 for what a look-up did not find."""

from __future__ import annotations

from typing import TypeVar

from rest_framework import permissions
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts import errors
from accounts.permissions import acting_token, is_site_admin

_Found = TypeVar("_Found")


def found_or_404(found: _Found | None, what: str) -> _Found:
    """What a look-up found, or NOT_FOUND `no such <what>` (also what exists but the caller may not see)."""
    if found is None:
        raise errors.NotFound(f"no such {what}")
    return found


class NotThroughApiToken(permissions.BasePermission):
    """Tokens, users and teams are managed by people signed in as themselves, never by a token."""

    message = "An API token cannot do this; sign in with your password."

    def has_permission(self, request, view):
        return acting_token(request.user) is None


class SiteAdminOnly(permissions.BasePermission):
    message = "Site administrators only."

    def has_permission(self, request, view):
        return is_site_admin(request.user)


class AccountsApiView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def paginated(self, queryset, serializer_class):
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
