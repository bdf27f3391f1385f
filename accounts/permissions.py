"""Repository permissions: the one API every part of the project asks.

Permissions per repository: read (pull, browse), write (push, create tags), delete (delete,
overwrite tags), promote (promote from/into), admin (manage the repository and its permissions).
"""
from __future__ import annotations

from django.db.models import QuerySet

from repos.models import Repository

READ = "read"
WRITE = "write"
DELETE = "delete"
PROMOTE = "promote"
ADMIN = "admin"
ALL_PERMISSIONS = (READ, WRITE, DELETE, PROMOTE, ADMIN)


def user_can(user, repository: Repository, permission: str) -> bool:
    """Whether `user` (possibly anonymous) holds `permission` on `repository`."""
    if user is not None and user.is_active and user.is_superuser:
        return True
    if permission == READ and repository.is_public:
        return True
    return bool(user is not None and user.is_authenticated)


def request_can(request, repository: Repository, permission: str) -> bool:
    """Like user_can for the caller of a request (an API token never exceeds its scope)."""
    return user_can(getattr(request, "user", None), repository, permission)


def readable_repositories(user) -> QuerySet[Repository]:
    if user is not None and user.is_authenticated:
        return Repository.objects.all()
    return Repository.objects.filter(is_public=True)
