"""Blob membership of repositories."""
from django.db import transaction

from repos.models import Blob, Repository, RepositoryBlob


def blob_unlink(*, repository: Repository, blob: Blob) -> None:
    """Remove a blob from a repository; its bytes stay until garbage collection finds it unreferenced."""
    with transaction.atomic():
        RepositoryBlob.objects.filter(repository=repository, blob=blob).delete()
