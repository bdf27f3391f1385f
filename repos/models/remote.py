"""Settings and state of remote (pull-through cache) and virtual repositories."""

from django.db import models


class RemoteSettings(models.Model):
    """Where a remote repository fetches from, how it authenticates, how long tags stay fresh."""

    repository = models.OneToOneField("repos.Repository", on_delete=models.CASCADE, related_name="remote")
    upstream_url = models.URLField(max_length=500)
    username = models.CharField(max_length=255, blank=True)
    # Fernet token of the password or access token (key under $DATA_DIR or UPSTREAM_CREDENTIALS_KEY).
    password_encrypted = models.TextField(blank=True)
    # Docker Hub keeps official images under `library/`: `hub/busybox` asks the upstream for `library/busybox`.
    library_prefix = models.BooleanField(default=False)
    tag_cache_seconds = models.PositiveIntegerField(default=600)
    last_status = models.CharField(max_length=16, blank=True, help_text="ok or error, from the last upstream call.")
    last_error = models.TextField(blank=True)
    last_contact = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.repository_id} -> {self.upstream_url}"

    @property
    def has_password(self) -> bool:
        return bool(self.password_encrypted)


class RemoteTagCheck(models.Model):
    """When a remote last asked its upstream what a tag points at (the tag cache time runs from here)."""

    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="+")
    image_name = models.CharField(max_length=255)
    tag = models.CharField(max_length=128)
    digest = models.CharField(max_length=140)
    checked = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "image_name", "tag"], name="uniq_remote_tag_check")
        ]


class RemoteBlobFetch(models.Model):
    """A blob being fetched from an upstream right now: the row is the lock that makes concurrent
    pulls of one missing blob fetch it once. The leader streams into `staged_id` under the upload
    staging root; followers read that file as it grows (or wait, on another host). The row goes
    when the fetch ends; `heartbeat` lets a follower take over from a leader that died."""

    digest = models.CharField(max_length=140, unique=True)
    staged_id = models.CharField(max_length=64)
    size = models.BigIntegerField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    failed = models.BooleanField(default=False)
    started = models.DateTimeField(auto_now_add=True)
    heartbeat = models.DateTimeField()


class VirtualMember(models.Model):
    """One member of a virtual repository, in resolution order."""

    virtual = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="member_of")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["virtual", "position"]
        constraints = [
            models.UniqueConstraint(fields=["virtual", "member"], name="uniq_virtual_member"),
            models.UniqueConstraint(fields=["virtual", "position"], name="uniq_virtual_position"),
        ]
