"""Promotion jobs: the queue entry, its state machine and the audit ledger of what was promoted."""

from django.conf import settings
from django.db import models


class PromotionJob(models.Model):
    """One request to copy or move an image (one tag or all) from a repository into another.

    The row is the truth about the job; a broker message only says "look at job N". Status moves
    forward with conditional updates (`UPDATE ... WHERE status=...`), so a redelivered message
    cannot run the promotion twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copies of the names, so the ledger still reads well after a user or repository is deleted.
    requested_by_name = models.CharField(max_length=150, blank=True)
    # The API token the request came through (accounts.ApiToken id): the run is bounded by its scope.
    token_id = models.PositiveBigIntegerField(null=True, blank=True)
    source_repository = models.ForeignKey("repos.Repository", null=True, on_delete=models.SET_NULL, related_name="+")
    target_repository = models.ForeignKey("repos.Repository", null=True, on_delete=models.SET_NULL, related_name="+")
    source_key = models.CharField(max_length=64)
    target_key = models.CharField(max_length=64)
    source_image = models.CharField(max_length=255)
    target_image = models.CharField(max_length=255)
    source_tag = models.CharField(max_length=128, blank=True, help_text="Blank: every tag of the image.")
    target_tag = models.CharField(max_length=128, blank=True, help_text="Blank: keep the source tag names.")
    copy = models.BooleanField(default=False, help_text="Keep the tags in the source (otherwise move them).")
    # The source tags and digests the requester saw (preview or `expected_digest`): the run is refused
    # (rule source-changed) if the source no longer matches. Null: promote whatever the tags hold.
    expected_digests = models.JSONField(null=True, blank=True)

    created = models.DateTimeField(auto_now_add=True)
    enqueued = models.DateTimeField(null=True, blank=True, help_text="When a worker was last told about it.")
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    # What happened: the applied plan (tags created/overwritten/removed, content linked) or the refusal.
    result = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "started"], name="promotion_status_started")]

    def __str__(self) -> str:
        return f"promotion #{self.pk} {self.source} -> {self.target} ({self.status})"

    @property
    def source(self) -> str:
        ref = f"{self.source_key}/{self.source_image}"
        return f"{ref}:{self.source_tag}" if self.source_tag else ref

    @property
    def target(self) -> str:
        ref = f"{self.target_key}/{self.target_image}"
        tag = self.target_tag or self.source_tag
        return f"{ref}:{tag}" if tag else ref

    @property
    def mode(self) -> str:
        return "copy" if self.copy else "move"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class PromotedDigest(models.Model):
    """Ledger line: this digest became part of the target through this (successful) promotion."""

    class Role(models.TextChoices):
        INDEX = "index"
        MANIFEST = "manifest"
        REFERRER = "referrer"
        BLOB = "blob"

    job = models.ForeignKey(PromotionJob, on_delete=models.CASCADE, related_name="digests")
    digest = models.CharField(max_length=140, db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["job", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "digest"], name="uniq_promoted_digest")]
