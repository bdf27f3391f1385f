"""The repository list: every readable repository with its kind, counts and kind settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from accounts.permissions import ADMIN, user_can
from repos.models import Image, Repository, RepositoryBlob, Tag, VirtualMember
from repos.selectors.home import repositories_with_stats


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


def repository_rows(*, repositories: QuerySet[Repository], user) -> list[RepositoryRow]:
    members = VirtualMember.objects.select_related("member").order_by("position")
    rows = (
        repositories_with_stats(repositories=repositories)
        .select_related("remote", "default_deployment")
        .prefetch_related(Prefetch("members", queryset=members))
    )
    return [RepositoryRow(repository=r, can_admin=user_can(user, r, ADMIN)) for r in rows]


def repository_counts(*, repository: Repository) -> dict[str, int]:
    return {
        "images": Image.objects.filter(repository=repository).count(),
        "tags": Tag.objects.filter(image__repository=repository).count(),
        "blobs": RepositoryBlob.objects.filter(repository=repository).count(),
    }
