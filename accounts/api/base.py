"""What every accounts API view shares: authenticated callers and one pager (errors: config/api_errors.py)."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.settings import api_settings
from rest_framework.views import APIView

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


class AccountsApiView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def paginated(self, queryset, serializer_class):
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
