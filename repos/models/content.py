"""Content-addressed rows: blobs and manifests are stored once and shared across repositories."""

from django.db import models
from django.utils import timezone

from repos.oci import media_types
from repos.oci.platforms import is_attestation, platform_label


class Blob(models.Model):
    digest = models.CharField(max_length=140, unique=True)
    # The size of the bytes received; null for a foreign layer's row whose bytes never came (a size a
    # manifest merely declares is kept on its ManifestLayer, never here).
    size = models.BigIntegerField(null=True)
    # A layer's size once decompressed, read from its bytes when first shown (gzip trailer, or the size of
    # a plain tar); -1 when the bytes cannot tell (zstd, remote storage, bytes absent), null until looked at.
    uncompressed_size = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Last time a push, mount, HEAD or promotion was about to rely on this blob: garbage collection
    # leaves blobs touched within its grace window alone (see repos/services/gc).
    touched = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.digest


class RepositoryBlob(models.Model):
    """The blob is readable through this repository (pushed, mounted or promoted into it)."""

    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="blob_links")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="repository_links")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "blob"], name="uniq_repository_blob")]


class Manifest(models.Model):
    """A manifest or index, kept as the exact bytes received; the digest is over those bytes."""

    digest = models.CharField(max_length=140, unique=True)
    media_type = models.CharField(max_length=255)
    raw = models.BinaryField()
    size = models.IntegerField()
    # Image manifests: the config blob and what it says; indexes leave these empty.
    config_blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    config = models.JSONField(default=dict, blank=True)
    os = models.CharField(max_length=64, blank=True)
    architecture = models.CharField(max_length=64, blank=True)
    variant = models.CharField(max_length=64, blank=True)
    image_created = models.DateTimeField(null=True, blank=True)
    # Bytes a pull transfers: config + layers, or for an index the sum over its children.
    content_size = models.BigIntegerField(default=0)
    annotations = models.JSONField(default=dict, blank=True)
    artifact_type = models.CharField(max_length=255, blank=True)
    subject_digest = models.CharField(max_length=140, blank=True, db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Search by platform: the image manifests of a platform without reading every manifest.
        indexes = [models.Index(fields=["architecture", "os", "variant"], name="manifest_platform")]

    def __str__(self) -> str:
        return self.digest

    @property
    def is_index(self) -> bool:
        return self.media_type in media_types.INDEX_TYPES

    @property
    def platform(self) -> str:
        return platform_label(self.os, self.architecture, self.variant)


class ManifestLabel(models.Model):
    """One label of an image manifest's config, in its own indexed row: search by label reads an index, not
    every config. Written with the manifest (its config never changes) and deleted with it."""

    KEY_MAX = 200  # longer keys are not kept: search cannot ask for them
    VALUE_INDEXED = 200  # the indexed start of the value; `value` holds it whole for the exact match

    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="label_rows")
    key = models.CharField(max_length=KEY_MAX)
    value_start = models.CharField(max_length=VALUE_INDEXED, blank=True)
    value = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["key", "value_start", "manifest"], name="label_key_value")]

    @classmethod
    def rows_for(cls, manifest_id: int, config: dict) -> list["ManifestLabel"]:
        """The rows of a manifest from its config summary (`Manifest.config`)."""
        labels = config.get("labels") if isinstance(config, dict) else None
        if not isinstance(labels, dict):
            return []
        return [
            cls(manifest_id=manifest_id, key=key, value_start=value[: cls.VALUE_INDEXED], value=value)
            for key, value in labels.items()
            if isinstance(key, str) and 0 < len(key) <= cls.KEY_MAX and isinstance(value, str)
        ]


class ManifestListEntry(models.Model):
    """One child of an index, with the platform the index declares for it."""

    index = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="entries")
    manifest = models.ForeignKey(Manifest, on_delete=models.PROTECT, related_name="parent_entries")
    position = models.PositiveIntegerField()
    os = models.CharField(max_length=64, blank=True)
    architecture = models.CharField(max_length=64, blank=True)
    variant = models.CharField(max_length=64, blank=True)
    os_version = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["index", "position"]
        constraints = [models.UniqueConstraint(fields=["index", "position"], name="uniq_entry_position")]
        # Search by platform: the indexes offering a platform, read from the index alone.
        indexes = [models.Index(fields=["architecture", "os", "variant", "index"], name="entry_platform")]

    @property
    def platform(self) -> str:
        return platform_label(self.os, self.architecture, self.variant)

    @property
    def is_attestation(self) -> bool:
        return is_attestation(self.os, self.architecture)


class ManifestLayer(models.Model):
    """A layer of an image manifest, in order, with the history entry that produced it."""

    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="layers")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    media_type = models.CharField(max_length=255)
    size = models.BigIntegerField()
    created_by = models.TextField(blank=True)
    history_created = models.CharField(max_length=64, blank=True)
    empty_layer = models.BooleanField(default=False)

    class Meta:
        ordering = ["manifest", "position"]
        constraints = [models.UniqueConstraint(fields=["manifest", "position"], name="uniq_layer_position")]
