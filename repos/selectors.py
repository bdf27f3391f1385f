"""Reads for the registry domain. Writes live in repos/services/."""
from __future__ import annotations

import uuid

from django.db.models import QuerySet

from repos import errors
from repos.models import Blob, Image, Manifest, Repository, Tag, UploadSession
from repos.oci import digests, names


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
    repository = Repository.objects.filter(key=key).first()
    if repository is None:
        raise errors.NameUnknown(detail={"name": name})
    return repository, image_path


def image_find(*, repository: Repository, name: str) -> Image | None:
    return Image.objects.filter(repository=repository, name=name).first()


def image_get(*, repository: Repository, name: str) -> Image:
    image = image_find(repository=repository, name=name)
    if image is None:
        raise errors.NameUnknown(detail={"name": f"{repository.key}/{name}"})
    return image


def manifest_get(*, image: Image, reference: str) -> Manifest:
    """A manifest of the image by tag or by digest."""
    if ":" in reference:
        if not digests.is_valid_digest(reference):
            raise errors.DigestInvalid("invalid digest", detail={"digest": reference})
        manifest = Manifest.objects.filter(digest=reference, memberships__image=image).first()
    else:
        if not names.is_valid_tag(reference):
            raise errors.TagInvalid("invalid tag", detail={"tag": reference})
        tag = Tag.objects.select_related("manifest").filter(image=image, name=reference).first()
        manifest = tag.manifest if tag else None
    if manifest is None:
        raise errors.ManifestUnknown(detail={"reference": reference})
    return manifest


def blob_get_in_repository(*, repository: Repository, digest: str) -> Blob:
    if not digests.is_valid_digest(digest):
        raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
    blob = Blob.objects.filter(digest=digest, repository_links__repository=repository).first()
    if blob is None:
        raise errors.BlobUnknown(detail={"digest": digest})
    return blob


def upload_get(*, repository: Repository, image_name: str, upload_id: str) -> UploadSession:
    try:
        session_id = uuid.UUID(upload_id)
    except ValueError:
        raise errors.BlobUploadUnknown(detail={"uuid": upload_id}) from None
    session = UploadSession.objects.filter(pk=session_id, repository=repository, image_name=image_name).first()
    if session is None:
        raise errors.BlobUploadUnknown(detail={"uuid": upload_id})
    return session


def tag_names_page(*, image: Image, limit: int, last: str = "") -> list[str]:
    tags: QuerySet = Tag.objects.filter(image=image).order_by("name")
    if last:
        tags = tags.filter(name__gt=last)
    return list(tags.values_list("name", flat=True)[:limit])


def catalog_page(*, repositories: QuerySet[Repository], limit: int, last: str = "") -> list[str]:
    """Client names (`key/image`) in lexical order, starting after `last`."""
    images = Image.objects.filter(repository__in=repositories).select_related("repository")
    if last and "/" in last:
        last_key, last_image = last.split("/", 1)
        images = images.filter(repository__key__gte=last_key).exclude(
            repository__key=last_key, name__lte=last_image
        )
    images = images.order_by("repository__key", "name")[:limit]
    return [f"{image.repository.key}/{image.name}" for image in images]


def referrers_of(*, image: Image, digest: str, artifact_type: str = "") -> QuerySet[Manifest]:
    manifests = Manifest.objects.filter(subject_digest=digest, memberships__image=image)
    if artifact_type:
        manifests = manifests.filter(artifact_type=artifact_type)
    return manifests.order_by("digest")
