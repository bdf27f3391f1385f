import uuid

from django.db import models


class UploadSession(models.Model):
    """A blob upload in progress.

    Filesystem staging ("local"): the bytes are in a file under UPLOAD_STAGING_ROOT named by the
    session id. Bucket staging ("bucket", with S3 blob storage): the bytes are an S3 multipart
    upload plus a short tail object, and everything needed to continue (parts, offset, sha256
    state, a lease for the one request writing) is in this row, so any web node continues it.
    """

    class Staging(models.TextChoices):
        LOCAL = "local"
        BUCKET = "bucket"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="uploads")
    image_name = models.CharField(max_length=255)
    offset = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    staging = models.CharField(max_length=8, choices=Staging.choices, default=Staging.LOCAL)
    multipart_id = models.CharField(max_length=1024, blank=True)
    parts = models.JSONField(default=list, blank=True)  # [{"number", "etag", "size"}], each >= 5 MiB
    tail_size = models.BigIntegerField(default=0)  # bytes in the tail object, after the parts
    hash_state = models.BinaryField(null=True, blank=True)  # sha256 state after `offset` bytes
    locked_until = models.DateTimeField(null=True, blank=True)  # lease of the request writing to it
