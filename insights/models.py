"""Alerts about tags (platform regressions, per-arch parity), smoke tests under emulation, outgoing webhooks."""

import hashlib
import json

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


class SmokeTest(models.Model):
    """A repository's smoke test: a command every platform image of its tags must pass, each under its own
    architecture (QEMU user emulation where the worker's machine differs), without network, read-only root."""

    repository = models.OneToOneField("repos.Repository", on_delete=models.CASCADE, related_name="smoke_test")
    # The argument list run as is: the first item replaces the image's entrypoint, the rest are its arguments.
    command = models.JSONField()
    expected_exit_code = models.PositiveSmallIntegerField(default=0)
    # Searched (Python `re.search`, multi-line) in the combined stdout and stderr; blank: not checked.
    output_pattern = models.CharField(max_length=500, blank=True)
    time_limit_seconds = models.PositiveIntegerField(default=60)
    required_for_promotion = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"smoke test of {self.repository_id}: {self.command}"

    def definition(self) -> dict:
        return {
            "command": list(self.command),
            "expected_exit_code": self.expected_exit_code,
            "output_pattern": self.output_pattern,
            "time_limit_seconds": self.time_limit_seconds,
        }

    @property
    def fingerprint(self) -> str:
        return definition_fingerprint(self.definition())


def definition_fingerprint(definition: dict) -> str:
    """Two tests with the same command, exit code, pattern and time limit are the same test, in any repository."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class SmokeTestRun(models.Model):
    """One smoke test run over every platform image of one digest (an index or a single-platform manifest)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        PASSED = "passed"
        FAILED = "failed"
        ERROR = "error"  # the run itself could not proceed (no platform image, registry unreachable, ...)

    class Trigger(models.TextChoices):
        PUSH = "push"
        BUILD = "build"
        PROMOTION = "promotion"
        MANUAL = "manual"

    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="smoke_test_runs")
    image = models.ForeignKey("repos.Image", on_delete=models.CASCADE, related_name="smoke_test_runs")
    tag = models.CharField(max_length=128, blank=True)
    digest = models.CharField(max_length=140)
    # The repository whose test this run applies (its definition is copied below: later edits do not change it).
    test_repository = models.ForeignKey(
        "repos.Repository", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    definition = models.JSONField()
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # when its job was last handed to the broker
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["image", "tag", "-created"], name="smoke_run_tag")]

    def __str__(self) -> str:
        return f"smoke test run {self.pk} of {self.digest} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.PASSED, self.Status.FAILED, self.Status.ERROR)


class SmokeTestResult(models.Model):
    """The outcome on one platform of a run. Keyed for promotion by platform image digest and test fingerprint."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PASSED = "passed"
        FAILED = "failed"

    class Reason(models.TextChoices):
        NONE = "", "passed"
        EXIT_CODE = "exit-code"
        OUTPUT_MISMATCH = "output-mismatch"
        TIMEOUT = "timeout"
        COULD_NOT_START = "could-not-start"

    run = models.ForeignKey(SmokeTestRun, on_delete=models.CASCADE, related_name="results")
    platform = models.CharField(max_length=200)
    manifest_digest = models.CharField(max_length=140)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    output = models.TextField(blank=True)  # the last lines (SMOKE_TEST_OUTPUT_LINES)
    detail = models.TextField(blank=True)  # why it failed, in words
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "platform"]
        constraints = [models.UniqueConstraint(fields=["run", "platform"], name="uniq_smoke_result_platform")]
        indexes = [models.Index(fields=["manifest_digest", "fingerprint"], name="smoke_result_digest")]

    def __str__(self) -> str:
        return f"{self.platform}: {self.status}"
