"""Output serializers. Lists compute platforms and derived tags once per page, not once per row."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from repos.models import Image, Manifest, Repository, Tag
from repos.oci.platforms import is_attestation, platform_label
from repos.selectors.images import image_summaries, tag_rows
from repos.selectors.provenance import tag_provenance


class RepositorySerializer(serializers.ModelSerializer):
    image_count = serializers.IntegerField(read_only=True)
    tag_count = serializers.IntegerField(read_only=True)
    storage_bytes = serializers.IntegerField(
        source="storage", read_only=True, help_text="Bytes of the distinct blobs the repository holds."
    )
    required_platforms = serializers.ListField(child=serializers.CharField())
    remote = serializers.SerializerMethodField(
        help_text="Remote repositories: upstream settings and last status (the password is never shown)."
    )
    members = serializers.SerializerMethodField(help_text="Virtual repositories: member keys in resolution order.")
    default_deployment = serializers.CharField(
        source="default_deployment.key", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Repository
        fields = [
            "key",
            "kind",
            "description",
            "stage",
            "stage_order",
            "is_public",
            "tag_immutability",
            "required_platforms",
            "remote",
            "members",
            "default_deployment",
            "image_count",
            "tag_count",
            "storage_bytes",
            "created",
        ]

    @extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
    def get_remote(self, repository):
        if repository.kind != Repository.Kind.REMOTE:
            return None
        remote = getattr(repository, "remote", None)
        if remote is None:
            return None
        return {
            "upstream_url": remote.upstream_url,
            "username": remote.username,
            "has_password": remote.has_password,
            "library_prefix": remote.library_prefix,
            "tag_cache_seconds": remote.tag_cache_seconds,
            "last_status": remote.last_status or None,
            "last_error": remote.last_error or None,
            "last_contact": _iso(remote.last_contact),
        }

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_members(self, repository):
        if repository.kind != Repository.Kind.VIRTUAL:
            return None
        return [m.member.key for m in repository.members.all()]


class _PageAwareList(serializers.ListSerializer):
    """Runs the child's `prepare(items)` once for the whole page and shares the result through the context."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        self.child.context[self.child.prepared_key] = self.child.prepare(items)
        return super().to_representation(items)


class _PreparedPerPage(serializers.Serializer):
    """A serializer whose fields read what `prepare(items)` computed for many items at once (item id → value):
    for a page through `_PageAwareList`, for a single item on first use."""

    prepared_key: str

    @staticmethod
    def prepare(items) -> dict:
        raise NotImplementedError

    def prepared(self, item):
        if self.prepared_key not in self.context:
            self.context[self.prepared_key] = self.prepare([item])
        return self.context[self.prepared_key][item.id]


class ImageSerializer(_PreparedPerPage, serializers.ModelSerializer):
    prepared_key = "image_summaries"
    repository = serializers.CharField(source="repository.key", read_only=True)
    client_name = serializers.CharField(read_only=True)
    tag_count = serializers.SerializerMethodField()
    latest_tags = serializers.SerializerMethodField()
    platforms = serializers.SerializerMethodField(
        help_text="Platforms of the current tag (`latest`, else the last pushed)."
    )
    size = serializers.SerializerMethodField(help_text="Compressed bytes of the current tag, all platforms.")

    class Meta:
        model = Image
        fields = [
            "id",
            "repository",
            "name",
            "client_name",
            "tag_count",
            "latest_tags",
            "platforms",
            "size",
            "last_pushed",
            "created",
        ]
        list_serializer_class = _PageAwareList

    @staticmethod
    def prepare(items):
        return {s.image.id: s for s in image_summaries(items)}

    @extend_schema_field(OpenApiTypes.INT)
    def get_tag_count(self, image):
        return self.prepared(image).tag_count

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_latest_tags(self, image):
        return self.prepared(image).latest_tags

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_platforms(self, image):
        return self.prepared(image).platforms.labels

    @extend_schema_field(OpenApiTypes.INT)
    def get_size(self, image):
        return self.prepared(image).size


class ChildSerializer(serializers.Serializer):
    platform = serializers.CharField()
    digest = serializers.CharField()
    size = serializers.IntegerField()


class ProvenanceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["pushed", "built", "promoted"])
    by = serializers.CharField(allow_null=True, help_text="Who pushed, asked for the build, or promoted.")
    at = serializers.DateTimeField(allow_null=True)
    build = serializers.IntegerField(allow_null=True, help_text="Build job id (kind built).")
    promotion = serializers.IntegerField(allow_null=True, help_text="Promotion job id (kind promoted).")
    promoted_from = serializers.CharField(allow_null=True, help_text="repository/image:tag it was promoted from.")


class TagSerializer(_PreparedPerPage, serializers.ModelSerializer):
    prepared_key = "tag_rows"
    repository = serializers.CharField(source="image.repository.key", read_only=True)
    image = serializers.CharField(source="image.name", read_only=True)
    digest = serializers.CharField(source="manifest.digest", read_only=True)
    media_type = serializers.CharField(source="manifest.media_type", read_only=True)
    is_index = serializers.BooleanField(source="manifest.is_index", read_only=True)
    size = serializers.IntegerField(
        source="manifest.content_size", read_only=True, help_text="Compressed bytes a pull of every platform transfers."
    )
    derived_from = serializers.CharField(source="derived_from.name", default=None, read_only=True)
    pushed_by = serializers.CharField(source="pushed_by.username", default=None, read_only=True)
    platforms = serializers.SerializerMethodField()
    derived_tags = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="Problems with what the tag points at, e.g. an index listing one platform twice."
    )
    provenance = serializers.SerializerMethodField(
        help_text="Where the tag's current value came from: pushed by a client, built by a build, or promoted "
        "from another repository (by whom, when, which job)."
    )

    class Meta:
        model = Tag
        fields = [
            "id",
            "repository",
            "image",
            "name",
            "digest",
            "media_type",
            "is_index",
            "size",
            "platforms",
            "derived_from",
            "derived_tags",
            "warnings",
            "updated",
            "pushed_by",
            "provenance",
        ]
        list_serializer_class = _PageAwareList

    @staticmethod
    def prepare(items):
        return {row.tag.id: row for row in tag_rows(items)}

    @extend_schema_field(ChildSerializer(many=True))
    def get_platforms(self, tag):
        return [
            {"platform": c.platform, "digest": c.digest, "size": c.size} for c in self.prepared(tag).platforms.children
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_derived_tags(self, tag):
        return [child.name for child in self.prepared(tag).derived]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, tag):
        return [duplicate.message for duplicate in self.prepared(tag).platforms.duplicates]

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, tag):
        return ProvenanceSerializer(tag_provenance(tag).as_dict()).data


class EntrySerializer(serializers.Serializer):
    """Schema of a manifest's child (the values are built as plain dicts)."""

    position = serializers.IntegerField()
    digest = serializers.CharField()
    media_type = serializers.CharField()
    platform = serializers.CharField()
    os = serializers.CharField()
    architecture = serializers.CharField()
    variant = serializers.CharField()
    size = serializers.IntegerField()
    created = serializers.DateTimeField(allow_null=True)
    attestation = serializers.BooleanField()


class LayerSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    digest = serializers.CharField()
    media_type = serializers.CharField()
    size = serializers.IntegerField()
    created_by = serializers.CharField()
    empty_layer = serializers.BooleanField()


class LocationSerializer(serializers.Serializer):
    repository = serializers.CharField()
    image = serializers.CharField()
    pushed_at = serializers.DateTimeField()


class ManifestSerializer(serializers.ModelSerializer):
    is_index = serializers.BooleanField(read_only=True)
    platform = serializers.SerializerMethodField()
    config_digest = serializers.CharField(source="config_blob.digest", default=None, read_only=True)
    # Children, layers and locations are plain dicts: nested serializers cost more than the queries here.
    children = serializers.SerializerMethodField()
    layers = serializers.SerializerMethodField()
    locations = serializers.SerializerMethodField(
        help_text="Where the manifest is, among the repositories you may read."
    )

    class Meta:
        model = Manifest
        fields = [
            "digest",
            "media_type",
            "is_index",
            "size",
            "content_size",
            "platform",
            "os",
            "architecture",
            "variant",
            "image_created",
            "artifact_type",
            "subject_digest",
            "annotations",
            "config_digest",
            "config",
            "children",
            "layers",
            "locations",
            "created",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_platform(self, manifest):
        return platform_label(manifest.os, manifest.architecture, manifest.variant)

    @extend_schema_field(EntrySerializer(many=True))
    def get_children(self, manifest):
        return [
            {
                "position": e.position,
                "digest": e.manifest.digest,
                "media_type": e.manifest.media_type,
                "platform": e.platform,
                "os": e.os,
                "architecture": e.architecture,
                "variant": e.variant,
                "size": e.manifest.content_size,
                "created": _iso(e.manifest.image_created),
                "attestation": is_attestation(e.os, e.architecture),
            }
            for e in manifest.entries.all()
        ]

    @extend_schema_field(LayerSerializer(many=True))
    def get_layers(self, manifest):
        return [
            {
                "position": layer.position,
                "digest": layer.blob.digest,
                "media_type": layer.media_type,
                "size": layer.size,
                "created_by": layer.created_by,
                "empty_layer": layer.empty_layer,
            }
            for layer in manifest.layers.all()
        ]

    @extend_schema_field(LocationSerializer(many=True))
    def get_locations(self, manifest):
        return [
            {"repository": m.image.repository.key, "image": m.image.name, "pushed_at": _iso(m.pushed_at)}
            for m in manifest.readable_memberships
        ]


def _iso(value):
    return serializers.DateTimeField().to_representation(value) if value else None


class ManifestSummarySerializer(ManifestSerializer):
    """In lists: everything but the image config (the detail has it)."""

    class Meta(ManifestSerializer.Meta):
        fields = [f for f in ManifestSerializer.Meta.fields if f != "config"]


class CoverageQuerySerializer(serializers.Serializer):
    """Matrix options of GET /api/coverage/ (which images: see the repository, stage and name filters)."""

    platform = serializers.CharField(
        required=False, default="", help_text="Platforms to report, comma-separated (default: all seen or required)."
    )
    missing = serializers.BooleanField(
        required=False, default=False, help_text="Only images missing at least one of the reported platforms."
    )
    missing_required = serializers.BooleanField(
        required=False, default=False, help_text="Only images missing a platform their repository requires."
    )

    def validated_platforms(self) -> tuple[str, ...]:
        values = [v.strip() for v in self.validated_data["platform"].split(",")]
        return tuple(dict.fromkeys(v for v in values if v))[:50]


class CoverageRowSerializer(serializers.Serializer):
    repository = serializers.CharField()
    stage = serializers.CharField()
    image = serializers.CharField()
    tag = serializers.CharField(allow_null=True, help_text="The tag coverage is read from.")
    digest = serializers.CharField(allow_null=True)
    platforms = serializers.DictField(child=serializers.ChoiceField(["present", "missing", "missing_required"]))
    missing_required = serializers.ListField(child=serializers.CharField())


class PlatformCountSerializer(serializers.Serializer):
    present = serializers.IntegerField()
    missing = serializers.IntegerField()
    missing_required = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    platforms = serializers.ListField(child=serializers.CharField())
    counts = serializers.DictField(child=PlatformCountSerializer())
    images_in_scope = serializers.IntegerField()
    images_complete = serializers.IntegerField(help_text="Images in scope that have every required platform.")
    results = CoverageRowSerializer(many=True)
