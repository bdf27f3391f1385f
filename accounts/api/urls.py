from django.urls import path

from accounts.api import access, users

urlpatterns = [
    path("users/", users.UserListView.as_view(), name="api-users"),
    path("users/me/", users.UserMeView.as_view(), name="api-user-me"),
    path("users/<int:pk>/", users.UserDetailView.as_view(), name="api-user"),
    path("teams/", users.TeamListView.as_view(), name="api-teams"),
    path("teams/<int:pk>/", users.TeamDetailView.as_view(), name="api-team"),
    path("repositories/<str:key>/grants/", access.GrantListView.as_view(), name="api-grants"),
    path("repositories/<str:key>/grants/<int:pk>/", access.GrantDetailView.as_view(), name="api-grant"),
    path("repositories/<str:key>/visibility/", access.VisibilityView.as_view(), name="api-visibility"),
    path("tokens/", access.TokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", access.TokenDetailView.as_view(), name="api-token"),
    path("audit-events/", access.AuditEventListView.as_view(), name="api-audit-events"),
]
