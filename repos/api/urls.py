from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from repos.api import operations, views
from repos.api.docs import RedocView, SwaggerView
from repos.api.repositories import RepositoryViewSet
from repos.api.stages import StageGridView

router = DefaultRouter()
router.register("repositories", RepositoryViewSet, basename="api-repository")
router.register("images", views.ImageViewSet, basename="api-image")
router.register("tags", views.TagViewSet, basename="api-tag")
router.register("manifests", views.ManifestViewSet, basename="api-manifest")

KEY = "<str:key>"
urlpatterns = [
    path(f"repositories/{KEY}/storage/", operations.RepositoryStorageView.as_view(), name="api-repository-storage"),
    path(f"repositories/{KEY}/policy/", operations.RepositoryPolicyView.as_view(), name="api-repository-policy"),
    path(
        f"repositories/{KEY}/retention/preview/",
        operations.RetentionPreviewView.as_view(),
        name="api-retention-preview",
    ),
    path(f"repositories/{KEY}/retention/run/", operations.RetentionRunView.as_view(), name="api-retention-run"),
    path("coverage/", views.CoverageView.as_view(), name="api-coverage"),
    path("stages/", StageGridView.as_view(), name="api-stages"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script as its own file, so the CSP needs no inline script.
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
]
