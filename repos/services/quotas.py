"""Repository quotas: a push that would make a repository hold more than its quota is refused.

What a repository holds is the bytes of the distinct blobs linked to it (pushed, mounted or
promoted in): exactly what the dashboard and API show as "held". The check and the link happen
under the repository's row lock, so two concurrent pushes cannot both slip under the limit.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum

from repos import errors
from repos.models import Blob, Repository, RepositoryBlob, RepositoryPolicy


def repository_quota(*, repository: Repository) -> int | None:
    return RepositoryPolicy.objects.filter(repository=repository).values_list("quota_bytes", flat=True).first()


def repository_held_bytes(*, repository: Repository) -> int:
    blob_ids = RepositoryBlob.objects.filter(repository=repository).values("blob_id")
    return Blob.objects.filter(pk__in=blob_ids).aggregate(total=Sum("size"))["total"] or 0


def quota_check(*, repository: Repository, digest: str, size: int) -> None:
    """Refuse early (before any byte is committed); `blob_link_within_quota` decides for good."""
    quota = repository_quota(repository=repository)
    if quota is None or RepositoryBlob.objects.filter(repository=repository, blob__digest=digest).exists():
        return
    _refuse_if_over(repository, quota, repository_held_bytes(repository=repository), size)


def blob_link_within_quota(*, repository: Repository, blob: Blob) -> None:
    """Link the blob to the repository, unless that takes it past its quota (DENIED with the numbers)."""
    if repository_quota(repository=repository) is None:
        RepositoryBlob.objects.get_or_create(repository=repository, blob=blob)
        return
    with transaction.atomic():
        Repository.objects.select_for_update().filter(pk=repository.pk).exists()
        if RepositoryBlob.objects.filter(repository=repository, blob=blob).exists():
            return
        quota = repository_quota(repository=repository)
        if quota is not None:
            _refuse_if_over(repository, quota, repository_held_bytes(repository=repository), blob.size or 0)
        RepositoryBlob.objects.create(repository=repository, blob=blob)


def _refuse_if_over(repository: Repository, quota: int, used: int, size: int) -> None:
    if used + size > quota:
        raise errors.Denied(
            f"repository {repository.key} quota exceeded: it holds {used} bytes, this blob adds {size}, "
            f"the quota is {quota} bytes",
            detail={"repository": repository.key, "quota_bytes": quota, "used_bytes": used, "blob_bytes": size},
        )
