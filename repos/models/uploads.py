import uuid

from django.db import models


class UploadSession(models.Model):
    """A blob upload in progress. Its bytes are staged on disk under the session id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="uploads")
    image_name = models.CharField(max_length=255)
    offset = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
