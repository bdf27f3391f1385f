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


class RepositoryPolicy(models.Model):
    """A repository's storage quota and tag retention rules (absent row: no quota, no retention)."""

    repository = models.OneToOneField("repos.Repository", on_delete=models.CASCADE, related_name="policy")
    quota_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="Refuse a push that would make the repository hold more bytes than this."
    )
    retention_enabled = models.BooleanField(default=False, help_text="Apply the retention rules every day.")
    retention_tag_pattern = models.CharField(
        max_length=200,
        default="*",
        blank=True,
        help_text="Tags the rules apply to (shell-style: `*`, `1.*`, `pr-*`); per-platform tags follow their index tag.",
    )
    retention_keep_newest = models.PositiveIntegerField(
        null=True, blank=True, help_text="Keep this many newest matching tags per image."
    )
    retention_max_age_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Remove matching tags last pushed more than this many days ago."
    )
    retention_include_immutable = models.BooleanField(
        default=False, help_text="Also remove tags of a repository with immutable tags."
    )
    retention_include_promoted = models.BooleanField(
        default=False, help_text="Also remove tags whose manifest a later stage still holds under the same image."
    )
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"policy of {self.repository_id}"

    @property
    def retention_configured(self) -> bool:
        return self.retention_keep_newest is not None or self.retention_max_age_days is not None


class RetentionRun(models.Model):
    """Tags one retention run removed (or, for a preview, would remove)."""

    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="retention_runs")
    started = models.DateTimeField(auto_now_add=True)
    requested_by_name = models.CharField(max_length=150, blank=True)
    removed = models.JSONField(default=list, blank=True)  # [{"image", "tag", "digest", "updated"}]
    skipped = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started", "-id"]
