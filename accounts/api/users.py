"""REST: users and teams. Site admins manage them; everyone else sees only themself and their teams."""

from __future__ import annotations

from django.contrib.auth.models import Group
from rest_framework import status
from rest_framework.response import Response

from accounts import errors
from accounts.api import docs
from accounts.api import serializers as s
from accounts.api.base import AccountsApiView, NotThroughApiToken, found_or_404
from accounts.selectors import team_visible_find, teams_visible_to, user_visible_find, users_visible_to
from accounts.services import users as user_services


class UserListView(AccountsApiView):
    @docs.listing(s.UserOutput, "api_users", "users", "Users the caller may see (site admins: everyone)")
    def get(self, request):
        return self.paginated(users_visible_to(request.user), s.UserOutput)

    @docs.creating(s.UserCreateInput, s.UserOutput, "api_users", "users", "Create a user (site admins)")
    def post(self, request):
        data = s.UserCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_services.user_create(actor=request.user, request=request, **data.validated_data)
        return Response(s.UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserMeView(AccountsApiView):
    @docs.reading(s.UserOutput, "api_users_me", "users", "The caller")
    def get(self, request):
        return Response(s.UserOutput(request.user).data)


class UserDetailView(AccountsApiView):
    def _user(self, request, pk: int):
        return found_or_404(user_visible_find(actor=request.user, pk=pk), "user")

    @docs.reading(s.UserOutput, "api_users", "users", "One user")
    def get(self, request, pk: int):
        return Response(s.UserOutput(self._user(request, pk)).data)

    @docs.updating(s.UserUpdateInput, s.UserOutput, "api_users", "users", "Change a user (site admins)")
    def patch(self, request, pk: int):
        user = self._user(request, pk)
        data = s.UserUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_services.user_update(actor=request.user, user=user, request=request, **data.validated_data)
        return Response(s.UserOutput(user).data)


class TeamListView(AccountsApiView):
    permission_classes = AccountsApiView.permission_classes + [NotThroughApiToken]

    @docs.listing(s.TeamOutput, "api_teams", "teams", "Teams the caller may see (site admins: every team)")
    def get(self, request):
        return self.paginated(teams_visible_to(request.user), s.TeamOutput)

    @docs.creating(s.TeamInput, s.TeamOutput, "api_teams", "teams", "Create a team (site admins)")
    def post(self, request):
        data = s.TeamInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data.get("name"):
            raise errors.InvalidRequest("a name is required", field="name")
        team = user_services.team_create(actor=request.user, request=request, **data.validated_data)
        return Response(s.TeamOutput(team).data, status=status.HTTP_201_CREATED)


class TeamDetailView(AccountsApiView):
    permission_classes = AccountsApiView.permission_classes + [NotThroughApiToken]

    def _team(self, request, pk: int) -> Group:
        return found_or_404(team_visible_find(actor=request.user, pk=pk), "team")

    @docs.reading(s.TeamOutput, "api_teams", "teams", "One team")
    def get(self, request, pk: int):
        return Response(s.TeamOutput(self._team(request, pk)).data)

    @docs.updating(s.TeamInput, s.TeamOutput, "api_teams", "teams", "Rename a team or set its members (site admins)")
    def patch(self, request, pk: int):
        team = self._team(request, pk)
        data = s.TeamInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = user_services.team_update(actor=request.user, team=team, request=request, **data.validated_data)
        return Response(s.TeamOutput(team).data)

    @docs.deleting("api_teams", "teams", "Delete a team (site admins)")
    def delete(self, request, pk: int):
        team = self._team(request, pk)
        user_services.team_delete(actor=request.user, team=team, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
