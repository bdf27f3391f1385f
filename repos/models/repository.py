"""Repositories, the images inside them, and tags."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from repos.oci.names import KEY_PATTERN

repository_key_validator = RegexValidator(
    rf"^{KEY_PATTERN}$",
    "Lower-case letters, digits and single separators (. _ -) between them.",
)


class Repository(models.Model):
    """A repository: the first path segment of every client name (`docker-local/app`).

    Local repositories are pushed into; a remote is a pull-through cache of an upstream registry
    (its settings in `RemoteSettings`, its cached content in ordinary rows like a local's); a
    virtual is one name over an ordered list of members (`VirtualMember`) and deploys pushes to
    its `default_deployment` local.
    """

    class Kind(models.TextChoices):
        LOCAL = "local"
        REMOTE = "remote"
        VIRTUAL = "virtual"

    key = models.CharField(max_length=64, unique=True, validators=[repository_key_validator])
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.LOCAL)
    description = models.TextField(blank=True)
    stage = models.CharField(max_length=32, blank=True, help_text="Pipeline label, e.g. dev, test, prod.")
    stage_order = models.PositiveSmallIntegerField(default=0)
    is_public = models.BooleanField(default=False)
    tag_immutability = models.BooleanField(default=False)
    required_platforms = models.JSONField(default=list, blank=True)
    # Virtual repositories only: the local that pushes into the virtual land in.
    default_deployment = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="deployed_by"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["stage_order", "key"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.key

    @property
    def is_local(self) -> bool:
        return self.kind == self.Kind.LOCAL

    @property
    def is_remote(self) -> bool:
        return self.kind == self.Kind.REMOTE

    @property
    def is_virtual(self) -> bool:
        return self.kind == self.Kind.VIRTUAL


class Image(models.Model):
    """A name inside a repository, e.g. `multiarch-image` or `team/app`."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="images")
    name = models.CharField(max_length=255)
    created = models.DateTimeField(auto_now_add=True)
    last_pushed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["repository__key", "name"]
        constraints = [models.UniqueConstraint(fields=["repository", "name"], name="uniq_image_name")]

    def __str__(self) -> str:
        return f"{self.repository.key}/{self.name}"

    @property
    def client_name(self) -> str:
        return f"{self.repository.key}/{self.name}"


class ImageManifest(models.Model):
    """Membership: the manifest is present in this image (reachable by digest)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="memberships")
    manifest = models.ForeignKey("repos.Manifest", on_delete=models.PROTECT, related_name="memberships")
    pushed_at = models.DateTimeField(auto_now_add=True)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "manifest"], name="uniq_image_manifest")]


class Tag(models.Model):
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=128)
    manifest = models.ForeignKey("repos.Manifest", on_delete=models.PROTECT, related_name="tags")
    # A per-platform tag (`1.0-linux-arm64`) points back at the index tag (`1.0`) it came from.
    derived_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="derived_tags"
    )
    updated = models.DateTimeField(auto_now=True)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Provenance of the tag's current value: the promotion job or the build (builds.BuildJob id; no
    # foreign key, builds depends on repos) that set it last. Neither: a client pushed it.
    promotion = models.ForeignKey(
        "repos.PromotionJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    build_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["image", "name"], name="uniq_tag_name")]
        # Lists newest first (the tag API, recent pushes) read this index backwards and stop after a page.
        indexes = [models.Index(fields=["updated", "id"], name="tag_updated")]

    def __str__(self) -> str:
        return f"{self.image}:{self.name}"
