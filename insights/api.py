"""REST API: /api/alerts/ and /api/webhooks/ (thin: services and selectors hold the logic)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from insights import selectors
from insights.models import Alert, Webhook, WebhookAttempt, WebhookDelivery
from insights.services.alerts import alert_acknowledge
from insights.services.webhooks import EVENTS, delivery_redeliver, webhook_create, webhook_delete
from repos.models import Repository


class AlertSerializer(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.key")
    image = serializers.CharField(source="image.name")
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None)
    open = serializers.BooleanField(source="is_open")

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "repository",
            "image",
            "tag",
            "digest",
            "message",
            "details",
            "created",
            "open",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledge_reason",
        ]


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Platform-regression and parity alerts of the repositories the caller can read."""

    serializer_class = AlertSerializer

    def get_queryset(self):
        params = self.request.query_params
        state = params.get("state", "")
        if state not in ("", "open", "acknowledged"):
            raise exceptions.ValidationError({"state": ["open or acknowledged"]})
        kind = params.get("kind", "")
        if kind and kind not in Alert.Kind.values:
            raise exceptions.ValidationError({"kind": [f"one of {', '.join(Alert.Kind.values)}"]})
        return selectors.alerts_filtered(
            self.request.user,
            repository=params.get("repository", ""),
            image=params.get("image", ""),
            tag=params.get("tag", ""),
            kind=kind,
            state=state,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("repository", str),
            OpenApiParameter("image", str),
            OpenApiParameter("tag", str),
            OpenApiParameter("kind", str, enum=Alert.Kind.values),
            OpenApiParameter("state", str, enum=["open", "acknowledged"]),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=AcknowledgeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def acknowledge(self, request, pk=None):
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert_id = int(pk)
        except ValueError:
            raise exceptions.NotFound() from None
        alert = alert_acknowledge(actor=request.user, alert_id=alert_id, reason=body.validated_data["reason"])
        return Response(AlertSerializer(alert).data)


class WebhookSerializer(serializers.ModelSerializer):
    repository = serializers.SlugRelatedField(
        slug_field="key", queryset=Repository.objects.all(), allow_null=True, required=False
    )
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENTS), allow_empty=False)
    secret = serializers.CharField(write_only=True, min_length=8, max_length=256)
    url = serializers.CharField(max_length=2048)

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "secret", "active", "repository", "created"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "response_code", "duration_ms", "error", "created"]


class DeliverySerializer(serializers.ModelSerializer):
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "delivery_id",
            "event",
            "status",
            "attempts",
            "response_code",
            "duration_ms",
            "error",
            "payload",
            "created",
            "updated",
            "redelivery_of",
            "attempt_log",
        ]


class WebhookViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Webhooks site admins (any) and repository admins (their repository's) manage."""

    serializer_class = WebhookSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return selectors.webhooks_manageable(self.request.user)

    def create(self, request, *args, **kwargs):
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        hook = webhook_create(
            actor=request.user,
            url=data["url"],
            events=data["events"],
            secret=data["secret"],
            repository=data.get("repository"),
            active=data.get("active", True),
        )
        return Response(WebhookSerializer(hook).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        webhook_delete(actor=self.request.user, webhook=instance)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        hook = self.get_object()
        rows = selectors.webhook_deliveries(webhook=hook)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_pk>\d+)/redeliver")
    def redeliver(self, request, pk=None, delivery_pk=None):
        hook = self.get_object()
        delivery = selectors.webhook_delivery_find(webhook=hook, pk=delivery_pk)
        if delivery is None:
            raise exceptions.NotFound("no such delivery")
        again = delivery_redeliver(actor=request.user, delivery=delivery)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
