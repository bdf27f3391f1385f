"""Remote repositories: a pull-through cache of an upstream `/v2/` registry.

What a remote caches are ordinary rows of the repository (images, manifests, tags, blob links),
so the dashboard, the read API, search, coverage and promotion treat it like any repository.

- A tag is answered from the cache while its last check is younger than the tag cache time;
  after that the upstream is asked again (and a moved tag moves here too). Content by digest is
  kept: a digest never changes meaning.
- An index comes with its child manifests and each image manifest with its config blob (the
  dashboard needs platforms and history); layers are fetched when first pulled (remote_blobs).
- Everything the upstream sends is verified before it is kept: a manifest's bytes against the
  digest asked for, the upstream's Docker-Content-Digest and the size its parent declares; a
  blob's bytes against its digest and size. A lie is refused and nothing of it is stored.
- When the upstream cannot be reached, cached content is served as it is.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import NoReturn

from django.conf import settings
from django.utils import timezone

from repos import errors
from repos.models import Blob, Image, Manifest, ManifestLayer, RemoteSettings, RemoteTagCheck, Repository, Tag
from repos.oci import digests, media_types, names
from repos.oci.manifests import ImageIndex, ImageManifest, ManifestError, parse_manifest
from repos.services import manifests as manifest_services
from repos.services.remote_blobs import FetchRequest, blob_fetch_stream, blob_fetch_wait
from repos.services.upstream import UpstreamClient, UpstreamError, UpstreamNotFound, upstream_client
from repos.services.upstream_credentials import credential_decrypt

logger = logging.getLogger(__name__)
MAX_CHILDREN_DEPTH = 2
STATUS_WRITE_SECONDS = 5.0


def upstream_name(remote: RemoteSettings, image_name: str) -> str:
    """The name to ask the upstream for: Docker Hub keeps one-segment official images under library/."""
    if remote.library_prefix and "/" not in image_name:
        return f"library/{image_name}"
    return image_name


def remote_settings(repository: Repository) -> RemoteSettings:
    remote = RemoteSettings.objects.filter(repository_id=repository.pk).first()
    if remote is None:
        raise errors.UpstreamUnavailable(f"remote {repository.key} has no upstream configured")
    return remote


def _client(repository: Repository, remote: RemoteSettings) -> UpstreamClient:
    return upstream_client(
        repository_id=repository.pk,
        base_url=remote.upstream_url,
        username=remote.username,
        password=credential_decrypt(remote.password_encrypted),
    )


# -- manifests ------------------------------------------------------------------------------------


def remote_manifest(*, repository: Repository, image_name: str, reference: str) -> Manifest:
    """The manifest of `image_name:reference` (tag or digest), from the cache or the upstream."""
    by_digest = names.is_digest_reference(reference)
    if by_digest and not digests.is_valid_digest(reference):
        raise errors.DigestInvalid("invalid digest", detail={"digest": reference})
    if not by_digest and not names.is_valid_tag(reference):
        raise errors.ManifestUnknown("invalid tag", detail={"tag": reference[:200]})
    image = Image.objects.filter(repository=repository, name=image_name).first()
    cached = _cached(image, reference) if image else None
    if cached is not None and (by_digest or _tag_fresh(repository, image_name, reference)):
        return cached
    remote = remote_settings(repository)
    client = _client(repository, remote)
    name = upstream_name(remote, image_name)
    try:
        raw, media_type, claimed = client.manifest(name, reference, limit=settings.REGISTRY_MAX_MANIFEST_BYTES)
    except UpstreamNotFound:
        remote_status_record(repository, error="")
        if cached is not None:
            return cached  # gone upstream: the cache keeps what it had
        raise errors.ManifestUnknown(detail={"reference": reference, "upstream": name}) from None
    except UpstreamError as exc:
        remote_status_record(repository, error=str(exc))
        if cached is not None:
            logger.info(
                "remote %s: upstream unavailable, serving %s:%s from the cache", repository.key, image_name, reference
            )
            return cached
        raise errors.UpstreamUnavailable(str(exc), detail={"upstream": remote.upstream_url}) from None
    digest = digests.sha256_digest(raw)
    if claimed and claimed != digest:
        _refuse(repository, f"the upstream says {claimed} for {name}:{reference} but its bytes hash to {digest}")
    if by_digest and digest != reference:
        _refuse(repository, f"the upstream sent bytes hashing to {digest} for {reference}")
    remote_status_record(repository, error="")
    if cached is not None and cached.digest == digest:
        _tag_checked(repository, image_name, reference, digest)
        return cached
    manifest = _cache(repository, client, name, image_name, reference, raw, media_type, depth=0)
    if not by_digest:
        _tag_checked(repository, image_name, reference, digest)
    return manifest


def _cached(image: Image, reference: str) -> Manifest | None:
    if names.is_digest_reference(reference):
        return Manifest.objects.filter(digest=reference, memberships__image=image).defer("config").first()
    tag = Tag.objects.select_related("manifest").filter(image=image, name=reference).first()
    return tag.manifest if tag else None


def _tag_fresh(repository: Repository, image_name: str, tag: str) -> bool:
    cache_seconds = (
        RemoteSettings.objects.filter(repository_id=repository.pk).values_list("tag_cache_seconds", flat=True).first()
        or 0
    )
    checked = (
        RemoteTagCheck.objects.filter(repository=repository, image_name=image_name, tag=tag)
        .values_list("checked", flat=True)
        .first()
    )
    if checked is None:
        # A tag derived from an index (`1.0-linux-amd64`) is as fresh as the index tag it came from.
        derived = (
            Tag.objects.filter(
                image__repository=repository, image__name=image_name, name=tag, derived_from__isnull=False
            )
            .values_list("derived_from__name", flat=True)
            .first()
        )
        if derived is None:
            return False
        return _tag_fresh(repository, image_name, derived)
    return (timezone.now() - checked).total_seconds() < cache_seconds


def _tag_checked(repository: Repository, image_name: str, tag: str, digest: str) -> None:
    RemoteTagCheck.objects.update_or_create(
        repository=repository, image_name=image_name, tag=tag, defaults={"digest": digest, "checked": timezone.now()}
    )


def _refuse(repository: Repository, message: str) -> NoReturn:
    remote_status_record(repository, error=message)
    raise errors.UpstreamUnavailable(f"refused: {message}")


def _cache(
    repository: Repository,
    client: UpstreamClient,
    name: str,
    image_name: str,
    reference: str,
    raw: bytes,
    media_type: str,
    *,
    depth: int,
) -> Manifest:
    """Store what the upstream sent (verified by the caller), children and config first."""
    try:
        parsed = parse_manifest(raw, media_type)
    except ManifestError as exc:
        _refuse(repository, f"the upstream sent an invalid manifest for {name}:{reference}: {exc}")
    image = Image.objects.filter(repository=repository, name=image_name).first()
    if isinstance(parsed, ImageIndex):
        if depth >= MAX_CHILDREN_DEPTH:
            _refuse(repository, "indexes nested deeper than two levels are not cached")
        for child in parsed.manifests:
            if image is not None and _cached(image, child.digest) is not None:
                continue
            _cache_child(repository, client, name, image_name, child, depth=depth)
            image = image or Image.objects.filter(repository=repository, name=image_name).first()
    else:
        config = parsed.config
        blob_fetch_wait(
            FetchRequest(
                repository=repository,
                client=client,
                upstream_name=name,
                digest=config.digest,
                declared_size=config.size,
            )
        )
    try:
        return manifest_services.manifest_put(
            repository=repository,
            image_name=image_name,
            reference=reference,
            raw=raw,
            content_type=media_type,
            layers_on_demand=True,
        )
    except (errors.ManifestInvalid, errors.ManifestBlobUnknown, errors.DigestInvalid, errors.TagInvalid) as exc:
        _refuse(repository, f"the upstream's manifest {name}:{reference} cannot be stored: {exc.message}")


def _cache_child(repository, client, name, image_name, child, *, depth: int) -> None:
    try:
        raw, media_type, _ = client.manifest(name, child.digest, limit=settings.REGISTRY_MAX_MANIFEST_BYTES)
    except UpstreamError as exc:
        remote_status_record(repository, error=str(exc))
        raise errors.UpstreamUnavailable(f"child manifest {child.digest}: {exc}") from None
    digest = digests.sha256_digest(raw)
    if digest != child.digest or len(raw) != child.size:
        _refuse(
            repository,
            f"the upstream's child manifest {child.digest} does not match its descriptor "
            f"(got {digest}, {len(raw)} bytes)",
        )
    _cache(repository, client, name, image_name, child.digest, raw, media_type or child.media_type, depth=depth + 1)


# -- blobs -----------------------------------------------------------------------------------------


def remote_blob(*, repository: Repository, image_name: str, digest: str):
    """The blob from the cache (a Blob), or a BlobStream of its fetch from the upstream."""
    if not digests.is_valid_digest(digest):
        raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
    return blob_fetch_stream(_fetch_request(repository, image_name, digest))


def remote_blob_size(*, repository: Repository, image_name: str, digest: str) -> int:
    """HEAD: the cached size, else the upstream's answer (nothing is stored)."""
    request = _fetch_request(repository, image_name, digest)
    cached = Blob.objects.filter(digest=digest, repository_links__repository=repository).first()
    if cached is not None and cached.size is not None:
        return cached.size
    try:
        size = request.client.blob_size(request.upstream_name, digest)
    except UpstreamNotFound:
        raise errors.BlobUnknown(detail={"digest": digest}) from None
    except UpstreamError as exc:
        remote_status_record(repository, error=str(exc))
        raise errors.UpstreamUnavailable(str(exc), detail={"digest": digest}) from None
    if size is None or (request.declared_size is not None and size != request.declared_size):
        raise errors.UpstreamUnavailable("the upstream did not state the blob's size as declared")
    return size


def _fetch_request(repository: Repository, image_name: str, digest: str) -> FetchRequest:
    if not digests.is_valid_digest(digest):
        raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
    remote = remote_settings(repository)
    return FetchRequest(
        repository=repository,
        client=_client(repository, remote),
        upstream_name=upstream_name(remote, image_name),
        digest=digest,
        declared_size=_declared_size(repository, image_name, digest),
    )


def _declared_size(repository: Repository, image_name: str, digest: str) -> int | None:
    """The size a manifest cached for this image gives the blob (layers and configs)."""
    held = {"memberships__image__repository": repository, "memberships__image__name": image_name}
    layer = (
        ManifestLayer.objects.filter(blob__digest=digest, **{f"manifest__{k}": v for k, v in held.items()})
        .values_list("size", flat=True)
        .first()
    )
    if layer is not None:
        return layer
    config = Manifest.objects.filter(config_blob__digest=digest, **held).first()
    if config is not None:
        try:
            parsed = parse_manifest(bytes(config.raw), config.media_type)
        except ManifestError:
            return None
        return parsed.config.size if isinstance(parsed, ImageManifest) else None
    return None


def remote_fill(*, repository: Repository, image_name: str, manifests: list[Manifest]) -> int:
    """Fetch every layer of these cached manifests not fetched yet (before a promotion copies the
    rows into a local, which must hold real bytes). Returns how many blobs were fetched."""
    remote = remote_settings(repository)
    client = _client(repository, remote)
    name = upstream_name(remote, image_name)
    linked = set(repository.blob_links.values_list("blob__digest", flat=True))
    layers = ManifestLayer.objects.filter(manifest__in=manifests).values_list("blob__digest", "size", "media_type")
    fetched = 0
    for digest, size, media_type in layers.distinct():
        if digest in linked or media_types.is_non_distributable(media_type):
            continue
        blob_fetch_wait(
            FetchRequest(repository=repository, client=client, upstream_name=name, digest=digest, declared_size=size)
        )
        linked.add(digest)
        fetched += 1
    return fetched


# -- tags ------------------------------------------------------------------------------------------


def remote_tag_names(*, repository: Repository, image_name: str) -> list[str]:
    """The upstream's tags when it answers, else the cached ones (never an error while cached)."""
    cached = list(
        Tag.objects.filter(image__repository=repository, image__name=image_name, derived_from__isnull=True).values_list(
            "name", flat=True
        )
    )
    remote = remote_settings(repository)
    try:
        upstream = _client(repository, remote).tags(upstream_name(remote, image_name))
    except UpstreamNotFound:
        if not cached:
            raise errors.NameUnknown(detail={"name": f"{repository.key}/{image_name}"}) from None
        return sorted(cached)
    except UpstreamError as exc:
        remote_status_record(repository, error=str(exc))
        if not cached:
            raise errors.UpstreamUnavailable(str(exc)) from None
        return sorted(cached)
    remote_status_record(repository, error="")
    return sorted(set(upstream) | set(cached))


# -- status ----------------------------------------------------------------------------------------

_last_status: dict[int, tuple[str, float]] = {}
_status_lock = threading.Lock()


def remote_status_record(repository: Repository, *, error: str) -> None:
    """Remember how the last upstream call went (shown on the dashboard); written at most every few
    seconds per process unless the status changes."""
    status = "error" if error else "ok"
    now = time.monotonic()
    with _status_lock:
        previous = _last_status.get(repository.pk)
        if previous and previous[0] == status and now - previous[1] < STATUS_WRITE_SECONDS:
            return
        _last_status[repository.pk] = (status, now)
    RemoteSettings.objects.filter(repository_id=repository.pk).update(
        last_status=status, last_error=error[:2000], last_contact=timezone.now()
    )
