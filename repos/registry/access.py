"""Who may do what through /v2/. The one place the registry asks about permissions."""

from __future__ import annotations

from django.db.models import QuerySet

from repos import errors
from repos.models import Repository

PULL = "pull"
PUSH = "push"
DELETE = "delete"


def require(request, repository: Repository, *actions: str) -> None:
    """Raise the spec error when the caller may not perform `actions` on `repository`."""
    from accounts.registry_auth import require_repository_access

    require_repository_access(request, repository, actions)


def readable_repositories(request) -> QuerySet[Repository]:
    from accounts.registry_auth import readable_repositories as readable

    return readable(request)


def screen_error(request, exc):
    """Errors that would tell a caller more than they may know (a name exists or not) are replaced."""
    from accounts.registry_auth import screen_error as screen

    return screen(request, exc)


def require_base(request) -> None:
    """`GET /v2/`: tells a client whether (and how) to authenticate."""
    from accounts.registry_auth import require_base as check

    check(request)


def push_target(request, repository: Repository) -> Repository:
    """Where a push addressed to `repository` lands: itself (a local), its default deployment (a
    virtual: the caller must also be allowed to write there), or DENIED (a remote, a virtual
    without a default deployment)."""
    from accounts.permissions import WRITE, user_can
    from repos.services.resolution import push_target as target_of

    target = target_of(repository=repository)
    if target.pk != repository.pk and not user_can(request.user, target, WRITE):
        raise errors.Denied(f"a push into {repository.key} lands in {target.key}: it needs write permission there")
    return target
