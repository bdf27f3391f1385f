"""A tag or manifest of an image: an index with its platform images, or one image with its layers."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from repos.models import Image, ImageManifest, Manifest, ManifestLayer, ManifestListEntry, Repository, Tag
from repos.oci.platforms import REFERENCE_DIGEST_ANNOTATION, REFERENCE_TYPE_ANNOTATION, is_attestation, platform_label
from repos.selectors.platforms import attestation_q, manifests_light

REFERRERS_SHOWN = 100
ATTESTATIONS_SHOWN = 100


def manifest_list(*, repositories: QuerySet[Repository], with_config: bool) -> QuerySet[Manifest]:
    """Manifests held by `repositories`, newest first, with entries, layers and the memberships among
    `repositories` (as `readable_memberships`); never the raw bytes, the config JSON only `with_config`."""
    # Evaluated once: as a list, the membership prefetch below uses the manifest index instead of
    # walking every membership of every readable repository.
    readable_ids = list(repositories.values_list("pk", flat=True))
    held = ImageManifest.objects.filter(image__repository_id__in=readable_ids)
    return (
        # EXISTS, not IN: the page walks manifests newest first and stops after one page.
        Manifest.objects.filter(Exists(held.filter(manifest=OuterRef("pk"))))
        .defer("raw", *(() if with_config else ("config",)))
        .select_related("config_blob")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=ManifestListEntry.objects.select_related("manifest")
                .defer("manifest__raw", "manifest__config", "manifest__annotations")
                .order_by("position"),
            ),
            Prefetch("layers", queryset=ManifestLayer.objects.select_related("blob").order_by("position")),
            Prefetch(
                "memberships",
                to_attr="readable_memberships",
                queryset=held.select_related("image__repository").order_by("image__repository__key", "image__name"),
            ),
        )
        .order_by("-id")
    )


def manifests_held_count(*, repositories: QuerySet[Repository], site_count: Callable[[], int]) -> int | None:
    """How many manifests `manifest_list` lists, when `site_count()` (the kept count over every repository)
    knows it: `repositories` is all of them. None otherwise (the list is then counted)."""
    if Repository.objects.exclude(pk__in=repositories.values("pk")).exists():
        return None
    return site_count()


def image_find(*, repositories: QuerySet[Repository], key: str, name: str) -> Image | None:
    return (
        Image.objects.select_related("repository")
        .filter(repository__in=repositories, repository__key=key, name=name)
        .first()
    )


def tag_find(*, image: Image, name: str) -> Tag | None:
    return (
        Tag.objects.select_related("manifest", "pushed_by", "derived_from", "promotion")
        .filter(image=image, name=name)
        .first()
    )


def manifest_find(*, image: Image, digest: str) -> Manifest | None:
    return Manifest.objects.filter(digest=digest, memberships__image=image).first()


def membership(*, image: Image, manifest: Manifest) -> ImageManifest | None:
    return ImageManifest.objects.select_related("pushed_by").filter(image=image, manifest=manifest).first()


def tags_pointing_at(*, image: Image, manifest_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for manifest_id, name in (
        Tag.objects.filter(image=image, manifest_id__in=manifest_ids)
        .order_by("name")
        .values_list("manifest_id", "name")
    ):
        found[manifest_id].append(name)
    return found


def referrers(*, image: Image, digests: list[str]) -> list[Manifest]:
    """Signatures, SBOMs and other artifacts whose subject is one of `digests`, in this image."""
    return list(
        manifests_light()
        .filter(subject_digest__in=digests, memberships__image=image)
        .order_by("subject_digest", "artifact_type", "digest")[:REFERRERS_SHOWN]
    )


def index_children(*, index: Manifest) -> QuerySet[ManifestListEntry]:
    """The platform images of an index, in index order (attestations apart)."""
    return (
        ManifestListEntry.objects.filter(index=index)
        .exclude(attestation_q())
        .select_related("manifest")
        .defer("manifest__raw", "manifest__config", "manifest__annotations")
        .order_by("position")
    )


@dataclass
class Attestation:
    digest: str
    size: int
    reference_type: str
    describes: str  # platform of the image it is about, when the index says


def index_attestations(*, index: Manifest) -> list[Attestation]:
    """Attestation manifests attached to the index (BuildKit provenance/SBOM as unknown/unknown children)."""
    entries = list(
        ManifestListEntry.objects.filter(index=index)
        .filter(attestation_q())
        .select_related("manifest")
        .only("os", "architecture", "position", "manifest__digest", "manifest__content_size")
        .order_by("position")[:ATTESTATIONS_SHOWN]
    )
    if not entries:
        return []
    annotations, platforms = _index_descriptors(index)
    result = []
    for entry in entries:
        notes = annotations.get(entry.manifest.digest, {})
        subject = notes.get(REFERENCE_DIGEST_ANNOTATION, "")
        result.append(
            Attestation(
                digest=entry.manifest.digest,
                size=entry.manifest.content_size,
                reference_type=notes.get(REFERENCE_TYPE_ANNOTATION, "attestation"),
                describes=platforms.get(subject, subject),
            )
        )
    return result


def _index_descriptors(index: Manifest) -> tuple[dict[str, dict], dict[str, str]]:
    """Annotations per child digest and platform per child digest, read from the stored index bytes."""
    try:
        doc = json.loads(bytes(index.raw))
    except ValueError:
        return {}, {}
    annotations, platforms = {}, {}
    for child in doc.get("manifests") or []:
        if not isinstance(child, dict) or not isinstance(child.get("digest"), str):
            continue
        if isinstance(child.get("annotations"), dict):
            annotations[child["digest"]] = child["annotations"]
        platform = child.get("platform")
        if isinstance(platform, dict):
            platforms[child["digest"]] = platform_label(
                str(platform.get("os", "")), str(platform.get("architecture", "")), str(platform.get("variant", ""))
            )
    return annotations, platforms


@dataclass
class LayerRow:
    """A build step: a layer, or a history entry that made no layer (ENV, CMD, ...)."""

    position: int | None
    layer: ManifestLayer | None
    created_by: str
    empty: bool
    shared_with: list[str] = field(default_factory=list)


@dataclass
class ImageContext:
    """Where a platform image sits: the index it was reached from and its sibling platforms."""

    index_digest: str | None
    platform: str
    siblings: list[tuple[str, str]]  # (platform, digest)
    shared_blobs: dict[int, list[str]]  # blob id -> sibling platforms that also hold it


def image_context(*, image: Image, manifest: Manifest, index_digest: str = "") -> ImageContext:
    parents = list(
        ManifestListEntry.objects.filter(manifest=manifest, index__memberships__image=image)
        .order_by("-index_id")
        .values_list("index_id", "index__digest", "os", "architecture", "variant")[:50]
    )
    chosen = next((p for p in parents if p[1] == index_digest), parents[0] if parents else None)
    own_platform = manifest.platform
    if chosen is None:
        return ImageContext(None, own_platform, [], {})
    index_id, digest, os, arch, variant = chosen
    siblings = [
        (platform_label(s_os, s_arch, s_variant), s_id, s_digest)
        for s_id, s_digest, s_os, s_arch, s_variant in ManifestListEntry.objects.filter(index_id=index_id)
        .exclude(manifest=manifest)
        .order_by("position")
        .values_list("manifest_id", "manifest__digest", "os", "architecture", "variant")
        if not is_attestation(s_os, s_arch)
    ]
    platform_of = {s_id: label for label, s_id, _ in siblings}
    shared: dict[int, list[str]] = defaultdict(list)
    if siblings:
        for s_id, blob_id in ManifestLayer.objects.filter(manifest_id__in=platform_of).values_list(
            "manifest_id", "blob_id"
        ):
            if platform_of[s_id] not in shared[blob_id]:
                shared[blob_id].append(platform_of[s_id])
    return ImageContext(
        index_digest=digest,
        platform=platform_label(os, arch, variant) or own_platform,
        siblings=[(label, s_digest) for label, _, s_digest in siblings],
        shared_blobs=dict(shared),
    )


def manifest_layers(*, manifest: Manifest) -> QuerySet[ManifestLayer]:
    """The layers of an image manifest in order, with their blobs."""
    return ManifestLayer.objects.filter(manifest=manifest).select_related("blob").order_by("position")


def layer_rows(*, manifest: Manifest, shared_blobs: dict[int, list[str]]) -> list[LayerRow]:
    """Layers in order, with the empty history steps between them (from the image config's history)."""
    layers = list(
        ManifestLayer.objects.filter(manifest=manifest)
        .select_related("blob")
        .only("position", "media_type", "size", "created_by", "empty_layer", "blob__digest", "blob_id")
        .order_by("position")
    )
    history = manifest.config.get("history") if isinstance(manifest.config, dict) else None
    rows: list[LayerRow] = []
    pending = iter(layers)
    for step in history if isinstance(history, list) else []:
        if not isinstance(step, dict):
            continue
        created_by = str(step.get("created_by") or "")
        if step.get("empty_layer"):
            rows.append(LayerRow(None, None, created_by, True))
            continue
        layer = next(pending, None)
        if layer is None:
            break
        rows.append(
            LayerRow(layer.position, layer, layer.created_by or created_by, False, shared_blobs.get(layer.blob_id, []))
        )
    for layer in pending:
        rows.append(LayerRow(layer.position, layer, layer.created_by, False, shared_blobs.get(layer.blob_id, [])))
    return rows
