"""Blob membership of repositories."""

from django.db import transaction
from django.db.models import Q

from repos import errors
from repos.models import Blob, Manifest, Repository, RepositoryBlob


def blob_unlink(*, repository: Repository, blob: Blob) -> None:
    """Remove a blob from a repository; its bytes stay until garbage collection finds it unreferenced.

    A blob that a manifest of the repository still uses cannot be deleted (UNSUPPORTED): the
    manifest would no longer pull. Manifest pushes lock the same row, so neither side races.
    """
    with transaction.atomic():
        link = RepositoryBlob.objects.select_for_update().filter(repository=repository, blob=blob).first()
        if link is None:
            raise errors.BlobUnknown(detail={"digest": blob.digest})
        user = (
            Manifest.objects.filter(memberships__image__repository=repository)
            .filter(Q(config_blob=blob) | Q(layers__blob=blob))
            .values_list("digest", flat=True)
            .first()
        )
        if user:
            raise errors.Unsupported(
                f"manifest {user} uses this blob; delete the manifest first", detail={"manifest": user}
            )
        link.delete()
