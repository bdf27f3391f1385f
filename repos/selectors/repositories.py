"""The repository list: every readable repository with its kind, counts and kind settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.permissions import ADMIN, readable_repositories, user_can
from repos.models import Image, Repository, RepositoryBlob, Tag, VirtualMember
from repos.selectors.home import repositories_with_stats


def repository_readable_find(*, user, key: str) -> Repository | None:
    """The repository `key` if `user` may read it; None for an unknown and an unreadable one alike."""
    return readable_repositories(user).filter(key=key).first()


def repository_readable_or_404(*, user, key: str) -> Repository:
    """A repository the user may read; unreadable ones answer 404, never 403 (no existence oracle)."""
    repository = repository_readable_find(user=user, key=key)
    if repository is None:
        raise Http404("No such repository")
    return repository


def repositories_with_keys(*, keys) -> list[Repository]:
    """The repositories among `keys` that exist (the caller reports the missing ones)."""
    return list(Repository.objects.filter(key__in=keys))


@dataclass
class RepositoryRow:
    repository: Repository
    can_admin: bool

    @property
    def remote(self):
        return getattr(self.repository, "remote", None) if self.repository.is_remote else None

    @property
    def member_keys(self) -> list[str]:
        return [m.member.key for m in self.repository.members.all()] if self.repository.is_virtual else []


def repository_list(*, repositories: QuerySet[Repository]) -> QuerySet[Repository]:
    """`repositories` with their counts and storage used, remote settings, default deployment and members."""
    members = VirtualMember.objects.select_related("member").order_by("position")
    return (
        repositories_with_stats(repositories=repositories)
        .select_related("remote", "default_deployment")
        .prefetch_related(Prefetch("members", queryset=members))
    )


def repository_rows(*, repositories: QuerySet[Repository], user) -> list[RepositoryRow]:
    rows = repository_list(repositories=repositories)
    return [RepositoryRow(repository=r, can_admin=user_can(user, r, ADMIN)) for r in rows]


def repository_counts(*, repository: Repository) -> dict[str, int]:
    return {
        "images": Image.objects.filter(repository=repository).count(),
        "tags": Tag.objects.filter(image__repository=repository).count(),
        "blobs": RepositoryBlob.objects.filter(repository=repository).count(),
    }
