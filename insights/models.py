"""Alerts about tags (platform regressions, per-arch parity) and outgoing webhooks."""

from django.conf import settings
from django.db import models


class Alert(models.Model):
    """Something a release manager should look at, about one tag of one image."""

    class Kind(models.TextChoices):
        PLATFORM_REGRESSION = "platform-regression"
        PARITY = "parity"

    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="alerts")
    image = models.ForeignKey("repos.Image", on_delete=models.CASCADE, related_name="alerts")
    tag = models.CharField(max_length=128)
    digest = models.CharField(max_length=140)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    message = models.TextField()
    # platform-regression: {"lost": [...], "compared_with": "<repo>/<image>:<tag>", "basis": "release"|"stage"}
    # parity: {"findings": [{"check": ..., "detail": ..., "platforms": {...}}]}
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledge_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["image", "acknowledged_at"], name="alert_image_open")]
        constraints = [
            # One alert per finding and digest: a tag pushed again with the same content adds none.
            models.UniqueConstraint(fields=["image", "tag", "digest", "kind"], name="uniq_alert_per_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.image}:{self.tag}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class Webhook(models.Model):
    class Event(models.TextChoices):
        PUSH = "push"
        TAG_DELETE = "tag.delete"
        PROMOTION = "promotion"
        BUILD = "build"
        ALERT = "alert"
        SMOKE_TEST = "smoke-test"

    url = models.URLField(max_length=2048)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=256)
    active = models.BooleanField(default=True)
    # None: every repository (site admins only).
    repository = models.ForeignKey(
        "repos.Repository", null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(unique=True)
    event = models.CharField(max_length=32)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # A redelivery points at the delivery it repeats.
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery (a delivery retried twice has three)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]
