"""Reads for the registry domain. Writes live in repos/services/."""

from __future__ import annotations

import functools
import uuid

from django.db import connection
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Collate, Concat

from repos import errors
from repos.models import Blob, Image, ImageManifest, Manifest, Repository, Tag, UploadSession
from repos.oci import digests, media_types, names, platforms


def repository_resolve(*, name: str) -> tuple[Repository, str]:
    """Split a client name into its repository and image path; NAME_UNKNOWN if the key is unknown."""
    if not names.is_valid_name(name):
        raise errors.NameInvalid(detail={"name": name})
    try:
        key, image_path = names.split_name(name)
    except ValueError:
        raise errors.NameInvalid(
            "a name is <repository-key>/<image>, e.g. docker-local/app", detail={"name": name}
        ) from None
    repository = _one(Repository.objects.filter(key=key))
    if repository is None:
        raise errors.NameUnknown(detail={"name": name})
    return repository, image_path


def image_find(*, repository: Repository, name: str) -> Image | None:
    image = _one(Image.objects.filter(repository=repository, name=name))
    if image is not None:
        image.repository = repository
    return image


def image_get(*, repository: Repository, name: str) -> Image:
    image = image_find(repository=repository, name=name)
    if image is None:
        raise errors.NameUnknown(detail={"name": f"{repository.key}/{name}"})
    return image


# Manifest columns a pull never needs (decoding the config JSON is the costly part of a row).
_COLD_FIELDS = ("config", "annotations", "image_created")


def _one(queryset):
    """The single row of a unique lookup, without the ORDER BY that `.first()` adds."""
    return next(iter(queryset.order_by()[:1]), None)


# What a pull reads, in model field order (Model.from_db wants that); other fields load on access.
_PULL_REPOSITORY_FIELDS = ("id", "key", "is_public", "tag_immutability")
_PULL_MANIFEST_FIELDS = ("id", "digest", "media_type", "raw", "size")


def manifest_find_for_pull(*, name: str, reference: str) -> tuple[Repository, Manifest] | None:
    """The hot path of a pull: repository and manifest in one narrow query. None when anything is
    missing or invalid; the caller then takes the long way (`repository_resolve`, `manifest_get`),
    which raises the error that says what.

    Plain SQL: building the same query through the ORM costs several times what running it does.
    """
    if not names.is_valid_name(name):
        return None
    try:
        key, image_name = names.split_name(name)
    except ValueError:
        return None
    by_digest = names.is_digest_reference(reference)
    if not (digests.is_valid_digest(reference) if by_digest else names.is_valid_tag(reference)):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_pull_sql(by_digest, connection.vendor), [key, image_name, reference])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(_PULL_REPOSITORY_FIELDS)
    repo_id, repo_key, is_public, immutable = row[:split]
    manifest_id, digest, media_type, raw, size = row[split:]
    repository = Repository.from_db(
        connection.alias, _PULL_REPOSITORY_FIELDS, (repo_id, repo_key, bool(is_public), bool(immutable))
    )
    manifest = Manifest.from_db(
        connection.alias, _PULL_MANIFEST_FIELDS, (manifest_id, digest, media_type, bytes(raw), size)
    )
    return repository, manifest


@functools.lru_cache(maxsize=4)
def _pull_sql(by_digest: bool, vendor: str) -> str:
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(alias: str, model, field: str) -> str:
        return f"{alias}.{quote(model._meta.get_field(field).column)}"

    selected = [column("r", Repository, f) for f in _PULL_REPOSITORY_FIELDS]
    selected += [column("m", Manifest, f) for f in _PULL_MANIFEST_FIELDS]
    if by_digest:  # any manifest present in the image
        source = f"{table(ImageManifest)} x"
        reference = column("m", Manifest, "digest")
    else:
        source = f"{table(Tag)} x"
        reference = column("x", Tag, "name")
    return (
        f"SELECT {', '.join(selected)} FROM {source}"  # noqa: S608 - quoted identifiers; values are parameters
        f" JOIN {table(Image)} i ON i.{quote('id')} = x.{quote('image_id')}"
        f" JOIN {table(Repository)} r ON r.{quote('id')} = i.{quote('repository_id')}"
        f" JOIN {table(Manifest)} m ON m.{quote('id')} = x.{quote('manifest_id')}"
        f" WHERE {column('r', Repository, 'key')} = %s AND {column('i', Image, 'name')} = %s AND {reference} = %s"
        # Remotes recheck tags and virtuals resolve through members: both take the long way.
        f" AND {column('r', Repository, 'kind')} = '{Repository.Kind.LOCAL}'"
        f" LIMIT 1"
    )


def manifest_get(*, image: Image, reference: str) -> Manifest:
    """A manifest of the image by tag or by digest."""
    if names.is_digest_reference(reference):
        if not digests.is_valid_digest(reference):
            raise errors.DigestInvalid("invalid digest", detail={"digest": reference})
        manifest = _one(Manifest.objects.filter(digest=reference, memberships__image=image).defer(*_COLD_FIELDS))
    else:
        if not names.is_valid_tag(reference):
            # No manifest can have this tag (distribution answers 404 too).
            raise errors.ManifestUnknown("invalid tag", detail={"tag": reference[:200]})
        tag = _one(
            Tag.objects.select_related("manifest")
            .filter(image=image, name=reference)
            .defer(*(f"manifest__{name}" for name in _COLD_FIELDS))
        )
        manifest = tag.manifest if tag else None
    if manifest is None:
        raise errors.ManifestUnknown(detail={"reference": reference})
    return manifest


def manifest_negotiate(*, manifest: Manifest, accept: str) -> Manifest:
    """What a pull of `manifest` serves for this `Accept` header: a client that accepts image manifests
    but no list type gets the default platform's (linux/amd64) child of an index; MANIFEST_UNKNOWN when that child is not of
    an accepted type."""
    if not manifest.is_index or not accept:
        return manifest
    accepted = {media_types.normalize_content_type(part) for part in accept.split(",")}
    if accepted & (media_types.INDEX_TYPES | {"*/*"}) or not accepted & media_types.IMAGE_MANIFEST_TYPES:
        return manifest
    entry = (
        manifest.entries.select_related("manifest")
        .filter(os=platforms.DEFAULT_OS, architecture=platforms.DEFAULT_ARCHITECTURE)
        .first()
    )
    if entry is None or entry.manifest.media_type not in accepted:
        raise errors.ManifestUnknown("no manifest matches the accepted media types")
    return entry.manifest


def blob_get_in_repository(*, repository: Repository, digest: str) -> Blob:
    if not digests.is_valid_digest(digest):
        raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
    blob = _one(Blob.objects.filter(digest=digest, repository_links__repository=repository))
    if blob is None:
        raise errors.BlobUnknown(detail={"digest": digest})
    return blob


def upload_get(*, repository: Repository, image_name: str, upload_id: str) -> UploadSession:
    try:
        session_id = uuid.UUID(upload_id)
    except ValueError:
        raise errors.BlobUploadUnknown(detail={"uuid": upload_id}) from None
    session = _one(UploadSession.objects.filter(pk=session_id, repository=repository, image_name=image_name))
    if session is None:
        raise errors.BlobUploadUnknown(detail={"uuid": upload_id})
    session.repository = repository
    return session


def blob_find_readable(*, repositories: QuerySet[Repository], digest: str) -> Repository | None:
    """A repository among `repositories` holding the blob (a mount without `from`)."""
    if not digests.is_valid_digest(digest):
        return None
    return repositories.filter(blob_links__blob__digest=digest).order_by("pk").first()


def _bytewise(expression):
    """Compare strings byte by byte, the spec's lexical order, whatever the database collation."""
    if connection.vendor == "postgresql":
        return Collate(expression, "C")
    return expression  # SQLite compares TEXT bytewise (BINARY) by default


def tag_names_page(*, image: Image, limit: int, last: str = "") -> list[str]:
    tags: QuerySet = Tag.objects.filter(image=image).annotate(key=_bytewise(F("name")))
    if last:
        tags = tags.filter(key__gt=last)
    return list(tags.order_by("key").values_list("name", flat=True)[:limit])


def catalog_page(*, repositories: QuerySet[Repository], limit: int, last: str = "") -> list[str]:
    """Client names (`key/image`) in lexical order, starting after `last`."""
    images = Image.objects.filter(repository__in=repositories).annotate(
        client_key=_bytewise(Concat(F("repository__key"), Value("/"), F("name"), output_field=CharField()))
    )
    if last:
        images = images.filter(client_key__gt=last)
    return list(images.order_by("client_key").values_list("client_key", flat=True)[:limit])


def referrers_of(*, image: Image | None, digest: str, artifact_type: str = "") -> list[dict]:
    """Descriptors of the image's manifests whose `subject` is `digest`, optionally of one artifact type."""
    if image is None:
        return []
    manifests = Manifest.objects.filter(subject_digest=digest, memberships__image=image)
    if artifact_type:
        manifests = manifests.filter(artifact_type=artifact_type)
    fields = ("media_type", "digest", "size", "artifact_type", "annotations")
    return [
        {
            "mediaType": media_type,
            "digest": manifest_digest,
            "size": size,
            **({"artifactType": kind} if kind else {}),
            **({"annotations": annotations} if annotations else {}),
        }
        for media_type, manifest_digest, size, kind, annotations in manifests.order_by("digest").values_list(*fields)
    ]
