from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from insights import api, api_smoke, views

KEY = r"(?P<key>[a-z0-9]+(?:[._-][a-z0-9]+)*)"

router = SimpleRouter()
router.register("alerts", api.AlertViewSet, basename="api-alert")
router.register("webhooks", api.WebhookViewSet, basename="api-webhook")
router.register("smoke-tests", api_smoke.SmokeTestRunViewSet, basename="api-smoke-test")

urlpatterns = [
    path("api/", include(router.urls)),
    re_path(
        rf"^api/repositories/{KEY}/smoke-test/$",
        api_smoke.SmokeTestDefinitionView.as_view(),
        name="api-smoke-test-definition",
    ),
    re_path(rf"^repositories/{KEY}/-/smoke-test/$", views.smoke_test_settings, name="smoke-test-settings"),
    path("smoke-tests/run/", views.smoke_test_run_again_view, name="smoke-test-run-again"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/", views.webhook_redeliver, name="webhook-redeliver"
    ),
]
