from django.urls import include, path
from rest_framework.routers import SimpleRouter

from insights import api, views

router = SimpleRouter()
router.register("alerts", api.AlertViewSet, basename="api-alert")
router.register("webhooks", api.WebhookViewSet, basename="api-webhook")

urlpatterns = [
    path("api/", include(router.urls)),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/", views.webhook_redeliver, name="webhook-redeliver"
    ),
]
