"""Operations records: garbage-collection runs."""
from django.db import models


class GcRun(models.Model):
    """One garbage-collection run (or dry run): what it removed and the bytes it reclaimed."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        COMMAND = "command"
        DASHBOARD = "dashboard"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.COMMAND)
    dry_run = models.BooleanField(default=False)
    grace_seconds = models.PositiveIntegerField()
    untagged_age_seconds = models.PositiveIntegerField()
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    memberships_removed = models.PositiveIntegerField(default=0, help_text="Untagged manifests removed from images.")
    manifests_removed = models.PositiveIntegerField(default=0)
    blobs_removed = models.PositiveIntegerField(default=0)
    orphan_files_removed = models.PositiveIntegerField(default=0, help_text="Stored bytes without any blob row.")
    bytes_reclaimed = models.BigIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Candidates a concurrent push, mount or promotion kept.")
    # The removed digests (first few hundred of each kind), for the dashboard and audits.
    removed = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "run"
        return f"gc {kind} #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished - self.started).total_seconds() if self.finished else None
