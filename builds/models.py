"""Build jobs: the request, its state machine, per-platform progress and what it produced."""

from django.conf import settings
from django.db import models


class BuildJob(models.Model):
    """One multi-arch build, from a Git ref or an uploaded archive, pushed into a repository.

    The row is the truth about the job: a broker message only says "run job N". Status moves
    forward with conditional updates (`UPDATE ... WHERE status IN (...)`), so a redelivered
    message, a cancel and the reconciler can race without running a build twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        PREPARING = "preparing"
        BUILDING = "building"
        PUSHING = "pushing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Source(models.TextChoices):
        GIT = "git"
        ARCHIVE = "archive"

    ACTIVE = (Status.PREPARING, Status.BUILDING, Status.PUSHING)
    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)
    # The API token the build was asked through, if any: the build's own credentials stay within its scope.
    token_id = models.PositiveBigIntegerField(null=True, blank=True)

    # Source
    source_type = models.CharField(max_length=8, choices=Source.choices)
    git_url = models.CharField(max_length=2048, blank=True)
    git_ref = models.CharField(max_length=255, blank=True)
    context_dir = models.CharField(max_length=1024, blank=True, help_text="Sub-directory used as the context.")
    archive_name = models.CharField(max_length=255, blank=True)
    archive_path = models.CharField(max_length=1024, blank=True)
    archive_size = models.BigIntegerField(default=0)
    source_commit = models.CharField(max_length=64, blank=True)

    # What to build
    dockerfile = models.CharField(max_length=1024, default="Dockerfile")
    build_args = models.JSONField(default=dict, blank=True)
    target_stage = models.CharField(max_length=128, blank=True)
    platforms = models.JSONField(default=list)
    requested_builder = models.CharField(max_length=16, blank=True, help_text="Blank: the worker's choice.")

    # Where it goes (names copied, so the record reads well after a repository is deleted)
    repository = models.ForeignKey("repos.Repository", null=True, on_delete=models.SET_NULL, related_name="+")
    repository_key = models.CharField(max_length=64)
    image_name = models.CharField(max_length=255)
    tags = models.JSONField(default=list)

    # How it ran
    builder = models.CharField(max_length=16, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    commands = models.JSONField(default=list, blank=True, help_text="Every command line run, in order.")
    progress = models.JSONField(default=dict, blank=True, help_text="platform -> {done, total, state}")
    time_limit = models.PositiveIntegerField(help_text="Seconds from start to kill.")
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)

    # Result
    index_digest = models.CharField(max_length=140, blank=True, db_index=True)
    platform_digests = models.JSONField(default=dict, blank=True, help_text="platform -> manifest digest")
    error = models.TextField(blank=True)

    created = models.DateTimeField(auto_now_add=True)
    enqueued = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat"], name="build_status_heartbeat")]

    def __str__(self) -> str:
        return f"build #{self.pk} {self.target} ({self.status})"

    @property
    def image_ref(self) -> str:
        return f"{self.repository_key}/{self.image_name}"

    @property
    def target(self) -> str:
        return f"{self.image_ref}:{self.tags[0]}" if self.tags else self.image_ref

    @property
    def source_label(self) -> str:
        if self.source_type == self.Source.GIT:
            label = f"{self.git_url}@{self.git_ref or 'HEAD'}"
        else:
            label = self.archive_name or "uploaded archive"
        return f"{label} ({self.context_dir})" if self.context_dir else label

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def duration(self):
        if self.started and self.finished:
            return self.finished - self.started
        return None


class BuildLog(models.Model):
    """The whole log of a finished build, archived from the live log store."""

    job = models.OneToOneField(BuildJob, on_delete=models.CASCADE, related_name="archived_log")
    text = models.TextField()
    line_count = models.PositiveIntegerField()
    truncated = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
