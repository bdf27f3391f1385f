"""Storing manifests and moving tags.

All I/O (reading config blobs) happens before the transaction; the rows for the manifest,
its children/layers, membership and tags are then written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from repos import errors, signals
from repos.models import (
    Blob,
    Image,
    ImageManifest,
    Manifest,
    ManifestLabel,
    ManifestLayer,
    ManifestListEntry,
    Repository,
    RepositoryBlob,
    Tag,
)
from repos.oci import digests, media_types, names, platforms
from repos.oci.image_config import ImageConfig, layer_history, parse_image_config
from repos.oci.manifests import (
    MAX_DESCRIPTOR_SIZE,
    ImageIndex,
    ManifestError,
    parse_manifest,
)
from repos.oci.manifests import (
    ImageManifest as ParsedImageManifest,
)
from repos.services import blob_guard
from repos.storage import get_blob_store

MAX_CONFIG_BYTES = 8 * 1024 * 1024


@dataclass
class _Prepared:
    parsed: ParsedImageManifest | ImageIndex
    digest: str
    blobs: dict[str, Blob] = field(default_factory=dict)
    children: dict[str, Manifest] = field(default_factory=dict)
    config: ImageConfig | None = None
    linked_blob_ids: set[int] = field(default_factory=set)


def manifest_put(
    *,
    repository: Repository,
    image_name: str,
    reference: str,
    raw: bytes,
    content_type: str,
    user=None,
    layers_on_demand: bool = False,
) -> Manifest:
    """Store a manifest and tag it. `layers_on_demand`: a remote caching what its upstream sent; its
    layers are fetched on first pull, so they need not be here yet (the config must be)."""
    if len(raw) > settings.REGISTRY_MAX_MANIFEST_BYTES:
        raise errors.ManifestTooLarge(detail={"limit": settings.REGISTRY_MAX_MANIFEST_BYTES})
    tag_name = _check_reference(reference, raw)
    try:
        parsed = parse_manifest(raw, content_type)
    except ManifestError as exc:
        raise errors.ManifestInvalid(str(exc)) from None
    prepared = _Prepared(parsed=parsed, digest=digests.sha256_digest(raw))
    image = Image.objects.filter(repository=repository, name=image_name).first()
    _resolve_references(prepared, repository=repository, image=image, layers_on_demand=layers_on_demand)

    with transaction.atomic():
        image = _image_locked(repository=repository, name=image_name)
        image.repository = repository
        _lock_references(prepared, repository=repository, image=image)
        manifest = _manifest_get_or_create(prepared, raw=raw)
        _membership_refresh(image=image, manifest=manifest, user=user)
        if tag_name:
            tag_set(image=image, name=tag_name, manifest=manifest, user=user)
        Image.objects.filter(pk=image.pk).update(last_pushed=timezone.now())
    return manifest


def _membership_refresh(*, image: Image, manifest: Manifest, user) -> None:
    """Add the manifest to the image, or mark it pushed again now. The UPDATE takes the row lock
    garbage collection takes before removing an untagged manifest, so the two never cross."""
    refreshed = ImageManifest.objects.filter(image=image, manifest=manifest).update(pushed_at=timezone.now())
    if not refreshed:
        ImageManifest.objects.get_or_create(image=image, manifest=manifest, defaults={"pushed_by": user})


def _image_locked(*, repository: Repository, name: str) -> Image:
    """The image row, made if needed and locked until the transaction ends.

    A promotion that moves an image's last tag away deletes the row (holding the same lock). Without the
    lock a push could add its manifest to the row being deleted and fail at commit (a foreign-key error on
    PostgreSQL). With it, either the move commits first — the row is gone and is made again here — or the
    move waits for this push and then sees its new tag, so it keeps the image.
    """
    for _ in range(3):
        image, _ = Image.objects.get_or_create(repository=repository, name=name)
        locked = Image.objects.select_for_update().filter(pk=image.pk).first()
        if locked is not None:
            return locked
    raise errors.TooManyRequests(
        f"image {name} is being changed by another request; retry", headers={"Retry-After": "1"}
    )


def tag_set(
    *, image: Image, name: str, manifest: Manifest, user=None, promotion=None, build_id: int | None = None
) -> Tag:
    """Point a tag at a manifest; for an index, derive `<tag>-<os>-<arch>[-<variant>]` per platform
    (the first entry of a platform listed twice, the one clients pull).

    Must be called inside a transaction. Whoever may push may move a tag; in a repository with
    immutable tags an existing tag never moves to another manifest (DENIED). `promotion` (a
    PromotionJob) or `build_id` record where the tag's value came from; neither means a client pushed it.
    """
    provenance = {"pushed_by": user, "promotion": promotion, "build_id": build_id}
    immutable = image.repository.tag_immutability
    if immutable:
        _refuse_moving_tag(image=image, name=name, manifest=manifest)
    tag, _ = Tag.objects.update_or_create(
        image=image, name=name, defaults={"manifest": manifest, "derived_from": None, **provenance}
    )
    kept: list[int] = []
    if manifest.is_index:
        derived_names: set[str] = set()
        for entry in manifest.entries.select_related("manifest").order_by("position"):
            derived_name = platforms.platform_tag(name, entry.os, entry.architecture, entry.variant or None)
            if not derived_name or derived_name == name or derived_name in derived_names:
                # A platform listed twice: docker and containerd pull the first match, so it names the first.
                continue
            derived_names.add(derived_name)
            if immutable:
                _refuse_moving_tag(image=image, name=derived_name, manifest=entry.manifest)
            derived, _ = Tag.objects.update_or_create(
                image=image,
                name=derived_name,
                defaults={"manifest": entry.manifest, "derived_from": tag, **provenance},
            )
            kept.append(derived.pk)
    tag.derived_tags.exclude(pk__in=kept).delete()
    _announce_after_commit(tag=tag, user=user, promotion=promotion, build_id=build_id)
    return tag


def _announce_after_commit(*, tag: Tag, user, promotion, build_id) -> None:
    """Tell listeners (alerts, parity checks, webhooks) once the tag's value is committed."""
    source = "promotion" if promotion is not None else "build" if build_id is not None else "push"
    tag_id, actor_id = tag.pk, getattr(user, "pk", None)
    transaction.on_commit(lambda: signals.tag_written.send(sender=Tag, tag_id=tag_id, actor_id=actor_id, source=source))


def manifest_delete(*, image: Image, digest: str) -> None:
    """Remove a manifest from an image, with every tag of the image pointing at it.

    An index takes along its children that nothing else in the image refers to (another index,
    a tag of their own); children still referenced stay. A manifest that an index of the image
    lists cannot go on its own (UNSUPPORTED): the index would point at nothing. Nor can one an
    immutable tag points at.
    """
    with transaction.atomic():
        membership = (
            ImageManifest.objects.select_for_update(of=("self",))
            .select_related("manifest")
            .filter(image=image, manifest__digest=digest)
            .first()
        )
        if membership is None:
            raise errors.ManifestUnknown(detail={"digest": digest})
        manifest = membership.manifest
        parent = _listing_indexes(image=image, manifest=manifest).values_list("digest", flat=True).first()
        if parent:
            raise errors.Unsupported(
                f"index {parent} lists this manifest; delete the index first", detail={"index": parent}
            )
        if image.repository.tag_immutability and Tag.objects.filter(image=image, manifest=manifest).exists():
            raise errors.Unsupported(_immutable_message(image.repository))
        _remove_from_image(image=image, manifest=manifest)


def tag_delete(*, image: Image, name: str, user=None) -> None:
    """Delete one tag (the manifest stays); an index tag takes its per-platform tags along."""
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(image=image, name=name).first()
        if tag is None:
            raise errors.ManifestUnknown(detail={"tag": name})
        if image.repository.tag_immutability:
            raise errors.Unsupported(_immutable_message(image.repository))
        manifest = tag.manifest
        tag.delete()
        transaction.on_commit(
            lambda: signals.tag_deleted.send(
                sender=Tag,
                image_id=image.pk,
                tag=name,
                digest=manifest.digest,
                media_type=manifest.media_type,
                actor_id=getattr(user, "pk", None),
            )
        )


def transient_tag_delete(*, image: Image, name: str, platform_labels: Iterable[str]) -> int:
    """Delete a tag that is nobody's to keep (a build's staging tag) with its per-platform tags for
    `platform_labels`, also those pushed on their own before any index derived them; immutability does
    not apply, as they are not the user's. Returns how many tags went."""
    derived = (platforms.label_platform_tag(name, label) for label in platform_labels)
    with transaction.atomic():
        deleted, _ = Tag.objects.filter(image=image, name__in=[name, *filter(None, derived)]).delete()
    return deleted


def _remove_from_image(*, image: Image, manifest: Manifest) -> None:
    Tag.objects.filter(image=image, manifest=manifest).delete()
    ImageManifest.objects.filter(image=image, manifest=manifest).delete()
    if not manifest.is_index:
        return
    children = Manifest.objects.filter(parent_entries__index=manifest, memberships__image=image).distinct()
    for child in children:
        still_listed = _listing_indexes(image=image, manifest=child).exists()
        if not still_listed and not Tag.objects.filter(image=image, manifest=child).exists():
            _remove_from_image(image=image, manifest=child)


def _listing_indexes(*, image: Image, manifest: Manifest):
    """Indexes present in the image that list `manifest` as a child."""
    return Manifest.objects.filter(entries__manifest=manifest, memberships__image=image).distinct()


def _immutable_message(repository: Repository) -> str:
    return f'repository {repository.key} has immutable tags (setting "Immutable tags", tag_immutability)'


def _refuse_moving_tag(*, image: Image, name: str, manifest: Manifest) -> None:
    current = Tag.objects.filter(image=image, name=name).values_list("manifest_id", flat=True).first()
    if current is not None and current != manifest.pk:
        raise errors.Denied(
            f"tag {name} already exists and repository {image.repository.key} has immutable tags "
            f'(setting "Immutable tags", tag_immutability): push a new tag instead',
            detail={"tag": name, "repository": image.repository.key, "setting": "tag_immutability"},
        )


def _lock_references(prepared: _Prepared, *, repository: Repository, image: Image) -> None:
    """Lock what the manifest references and check it is still there (a concurrent delete may
    have removed it since `_resolve_references`); deletes lock the same rows."""
    if isinstance(prepared.parsed, ImageIndex):
        children = [m.pk for m in prepared.children.values()]
        locked_children = ImageManifest.objects.select_for_update().filter(image=image, manifest_id__in=children)
        present = set(locked_children.order_by("pk").values_list("manifest_id", flat=True))
        if present != set(children):
            raise errors.ManifestBlobUnknown("a referenced manifest was deleted meanwhile")
        return
    stored = [b.pk for b in prepared.blobs.values() if b.pk in prepared.linked_blob_ids]
    locked = RepositoryBlob.objects.select_for_update().filter(repository=repository, blob_id__in=stored)
    if set(locked.order_by("pk").values_list("blob_id", flat=True)) != set(stored):
        raise errors.ManifestBlobUnknown("a referenced blob was deleted meanwhile")


def _check_reference(reference: str, raw: bytes) -> str | None:
    """The tag to set, or None when pushing by digest (which must match the bytes)."""
    if names.is_digest_reference(reference):
        if not digests.is_valid_digest(reference):
            raise errors.DigestInvalid("invalid digest", detail={"digest": reference})
        if digests.sha256_digest(raw) != reference:
            raise errors.DigestInvalid("manifest digest does not match the reference")
        return None
    if not names.is_valid_tag(reference):
        raise errors.TagInvalid("invalid tag", detail={"tag": reference})
    return reference


def _resolve_references(
    prepared: _Prepared, *, repository: Repository, image: Image | None, layers_on_demand: bool = False
) -> None:
    parsed = prepared.parsed
    if isinstance(parsed, ImageIndex):
        wanted = {child.digest for child in parsed.manifests}
        children = Manifest.objects.filter(digest__in=wanted, memberships__image=image) if image else []
        prepared.children = {m.digest: m for m in children}
        missing = sorted(wanted - prepared.children.keys())
        if missing:
            raise errors.ManifestBlobUnknown(detail={"manifests": missing})
        return
    descriptors = [parsed.config, *parsed.layers]
    wanted = {d.digest for d in descriptors}
    blob_guard.blobs_touch(digests=wanted)  # before the look-up, see repos/services/blob_guard.py
    found = Blob.objects.filter(digest__in=wanted, repository_links__repository=repository)
    prepared.blobs = {b.digest: b for b in found}
    prepared.linked_blob_ids = {b.pk for b in found}
    # Only a layer may be foreign (absent from the registry); the config must always be here.
    missing = sorted(
        d.digest
        for position, d in enumerate(descriptors)
        if d.digest not in prepared.blobs
        and not (position and (layers_on_demand or media_types.is_non_distributable(d.media_type)))
    )
    if missing:
        raise errors.ManifestBlobUnknown(detail={"blobs": missing})
    _check_declared_sizes(descriptors, prepared.blobs)
    for d in parsed.layers:
        if d.digest not in prepared.blobs:
            # A foreign layer, or a remote's layer not fetched yet: keep a row so the layer list stays complete.
            prepared.blobs[d.digest] = _blob_placeholder(d.digest)
    if parsed.config.size <= MAX_CONFIG_BYTES and parsed.config.media_type in (
        media_types.DOCKER_CONFIG,
        media_types.OCI_CONFIG,
    ):
        with get_blob_store().open(parsed.config.digest) as handle:
            prepared.config = parse_image_config(handle.read(MAX_CONFIG_BYTES))


def _check_declared_sizes(descriptors, blobs: dict[str, Blob]) -> None:
    """A descriptor of bytes this registry holds must state their real size (clients verify it on pull)."""
    for d in descriptors:
        blob = blobs.get(d.digest)
        if blob is not None and blob.size is not None and blob.size != d.size:
            raise errors.ManifestInvalid(
                f"descriptor {d.digest} declares {d.size} bytes, the blob has {blob.size}",
                detail={"digest": d.digest, "declared": d.size, "actual": blob.size},
            )
    total = sum(d.size for d in descriptors)
    if total > MAX_DESCRIPTOR_SIZE:
        raise errors.ManifestInvalid("the declared sizes add up to more than 2^63 - 1 bytes")


def _blob_placeholder(digest: str) -> Blob:
    """The row of a foreign layer's digest. Its size stays unknown (null) until real bytes arrive:
    what a manifest declares about bytes nobody uploaded must never be served as their size."""
    blob, _ = Blob.objects.get_or_create(digest=digest, defaults={"size": None})
    return blob


def _manifest_get_or_create(prepared: _Prepared, *, raw: bytes) -> Manifest:
    # Locked: garbage collection deletes an unused manifest row under the same lock.
    existing = Manifest.objects.select_for_update().filter(digest=prepared.digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _manifest_create(prepared, raw=raw)
    except IntegrityError:
        return Manifest.objects.get(digest=prepared.digest)


def _manifest_create(prepared: _Prepared, *, raw: bytes) -> Manifest:
    parsed = prepared.parsed
    manifest = Manifest(
        digest=prepared.digest,
        media_type=parsed.media_type,
        raw=raw,
        size=len(raw),
        annotations=parsed.annotations or {},
        artifact_type=parsed.artifact_type or "",
        subject_digest=parsed.subject.digest if parsed.subject else "",
    )
    if parsed.subject:
        # What the referrers API reports and filters on (image spec: artifactType, else the config's type).
        manifest.artifact_type = parsed.effective_artifact_type or ""
    if isinstance(parsed, ImageIndex):
        manifest.content_size = min(sum(c.content_size for c in prepared.children.values()), MAX_DESCRIPTOR_SIZE)
        manifest.save()
        ManifestListEntry.objects.bulk_create(
            ManifestListEntry(
                index=manifest,
                manifest=prepared.children[child.digest],
                position=position,
                os=child.platform.os if child.platform else "",
                architecture=child.platform.architecture if child.platform else "",
                variant=(child.platform.variant or "") if child.platform else "",
                os_version=(child.platform.os_version or "") if child.platform else "",
            )
            for position, child in enumerate(parsed.manifests)
        )
        return manifest

    config = prepared.config
    manifest.config_blob = prepared.blobs[parsed.config.digest]
    manifest.content_size = parsed.config.size + sum(layer.size for layer in parsed.layers)
    if not manifest.artifact_type and parsed.config.media_type not in media_types.CONFIG_TYPES:
        manifest.artifact_type = parsed.config.media_type
    if config is not None:
        manifest.os = config.os or ""
        manifest.architecture = config.architecture or ""
        manifest.variant = config.variant or ""
        manifest.image_created = _parse_created(config.created)
        manifest.config = config_summary(config)
    manifest.save()
    ManifestLabel.objects.bulk_create(ManifestLabel.rows_for(manifest.pk, manifest.config))
    history = layer_history(config, len(parsed.layers)) if config is not None else [None] * len(parsed.layers)
    ManifestLayer.objects.bulk_create(
        ManifestLayer(
            manifest=manifest,
            blob=prepared.blobs[layer.digest],
            position=position,
            media_type=layer.media_type,
            size=layer.size,
            created_by=(entry.created_by or "") if entry else "",
            history_created=(entry.created or "")[:64] if entry else "",
            empty_layer=bool(entry and entry.empty_layer),
        )
        for position, (layer, entry) in enumerate(zip(parsed.layers, history))
    )
    return manifest


def _parse_created(value: str | None):
    try:
        return parse_datetime(value) if value else None
    except ValueError:
        return None


def config_summary(config: ImageConfig) -> dict:
    """What a manifest row keeps of its image config (`Manifest.config`): labels, the run settings, history."""
    return {
        "entrypoint": config.entrypoint,
        "cmd": config.cmd,
        "env": config.env,
        "labels": config.labels,
        "user": config.user,
        "working_dir": config.working_dir,
        "exposed_ports": config.exposed_ports,
        "os_version": config.os_version,
        "history": [
            {"created": h.created, "created_by": h.created_by, "empty_layer": h.empty_layer, "comment": h.comment}
            for h in config.history
        ],
    }
