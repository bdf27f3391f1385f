"""Storage accounting per repository, and garbage-collection history.

Three figures per repository: `held` (bytes of the distinct blobs linked to it: pushed, mounted or
promoted in; what a quota counts), `referenced` (bytes of the distinct blobs its manifests use)
and `exclusive` (of those, bytes no manifest of any other repository uses: what deleting the
repository's images would let garbage collection free).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from repos.models import Blob, GcRun, Manifest, ManifestLayer, Repository
from repos.services import quotas


@dataclass(frozen=True)
class RepositoryStorage:
    repository: Repository
    held: int
    referenced: int
    exclusive: int
    quota: int | None

    @property
    def quota_used_percent(self) -> int | None:
        if not self.quota:
            return None
        return min(100, round(100 * self.held / self.quota))


def _referenced_blob_ids(manifests: QuerySet[Manifest]) -> set[int]:
    ids = set(manifests.exclude(config_blob=None).values_list("config_blob_id", flat=True))
    ids |= set(ManifestLayer.objects.filter(manifest__in=manifests).values_list("blob_id", flat=True))
    return ids


def repository_storage(*, repository: Repository) -> RepositoryStorage:
    ours = Manifest.objects.filter(memberships__image__repository=repository)
    theirs = Manifest.objects.filter(memberships__image__repository__in=Repository.objects.exclude(pk=repository.pk))
    referenced = _referenced_blob_ids(ours)
    exclusive = referenced - _referenced_blob_ids(theirs)
    sizes = {pk: size or 0 for pk, size in Blob.objects.filter(pk__in=referenced).values_list("pk", "size")}
    return RepositoryStorage(
        repository=repository,
        held=quotas.repository_held_bytes(repository=repository),
        referenced=sum(sizes.values()),
        exclusive=sum(sizes[pk] for pk in exclusive),
        quota=quotas.repository_quota(repository=repository),
    )


def repositories_storage(*, repositories: QuerySet[Repository] | None = None) -> list[RepositoryStorage]:
    repositories = Repository.objects.all() if repositories is None else repositories
    return [repository_storage(repository=r) for r in repositories.order_by("stage_order", "key")]


def gc_runs() -> QuerySet[GcRun]:
    return GcRun.objects.all()
