"""Routes of the build pages and the build REST API; included from config/urls.py."""

from django.urls import path

from builds import api, views

urlpatterns = [
    path("api/builds/", api.BuildListCreateView.as_view(), name="api-build-list"),
    path("api/builds/<int:pk>/", api.BuildDetailView.as_view(), name="api-build-detail"),
    path("api/builds/<int:pk>/log", api.BuildLogView.as_view(), name="api-build-log"),
    path("api/builds/<int:pk>/cancel/", api.BuildCancelView.as_view(), name="api-build-cancel"),
    path("builds/", views.build_list, name="build-list"),
    path("builds/new/", views.build_new, name="build-new"),
    path("builds/<int:pk>/", views.build_detail, name="build-detail"),
    path("builds/<int:pk>/status/", views.build_status_fragment, name="build-status"),
    path("builds/<int:pk>/cancel/", views.build_cancel_view, name="build-cancel"),
]
