from django.contrib import admin
from django.urls import include, path

from config import health
from repos.registry.views.token import RegistryTokenView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("v2/token", RegistryTokenView.as_view(), name="registry-token"),  # before the /v2/ catch-all
    path("", include("repos.registry.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("accounts.api.urls")),
    path("", include("repos.promotion.urls")),
    path("", include("builds.urls")),
    path("", include("insights.urls")),
    path("", include("repos.urls")),
]

handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
