"""Repository permissions: the one API every part of the project asks.

Permissions per repository: read (pull, browse), write (push, create and move tags), delete (delete
manifests, tags, blobs), promote (promote from/into), admin (manage the repository and its permissions).
A grant implies the weaker ones it needs: write and promote imply read, delete implies write,
admin implies all. A public repository is readable by everyone, anonymous included; a superuser
holds everything.

A user authenticated with an API token carries it as `user.acting_token`: every answer is then the
intersection of the token's scope and the creator's rights *now*, so a token loses what its
creator loses.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from repos.models import Repository

READ = "read"
WRITE = "write"
DELETE = "delete"
PROMOTE = "promote"
ADMIN = "admin"
ALL_PERMISSIONS = (READ, WRITE, DELETE, PROMOTE, ADMIN)

IMPLIED = {
    READ: frozenset({READ}),
    WRITE: frozenset({READ, WRITE}),
    DELETE: frozenset({READ, WRITE, DELETE}),
    PROMOTE: frozenset({READ, PROMOTE}),
    ADMIN: frozenset(ALL_PERMISSIONS),
}
NOTHING: frozenset[str] = frozenset()


def expand(permissions) -> frozenset[str]:
    """The permissions together with everything they imply; unknown names are ignored."""
    result: set[str] = set()
    for permission in permissions:
        result |= IMPLIED.get(permission, NOTHING)
    return frozenset(result)


def acting_token(user):
    """The API token the user is acting through in this request, if any."""
    return getattr(user, "acting_token", None)


def acting_token_set(user: Any, token: Any) -> None:
    """Let this user object act through `token` (an ApiToken): its rights are then bounded by the token's."""
    user.acting_token = token  # an attribute of this in-memory user object only, never saved


def _is_person(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _public(repository: Repository) -> frozenset[str]:
    return IMPLIED[READ] if repository.is_public else NOTHING


def _user_grants_filter(user) -> Q:
    return Q(user=user) | Q(team__user=user)


def granted_permissions(user, repository: Repository) -> frozenset[str]:
    """What the user holds on the repository through grants, teams, public access or superuser."""
    if not _is_person(user):
        return _public(repository)
    if user.is_superuser:
        return frozenset(ALL_PERMISSIONS)
    with connection.cursor() as cursor:
        cursor.execute(_grants_sql(connection.vendor), [repository.pk, user.pk, user.pk])
        rows = [row[0] for row in cursor.fetchall()]
    return expand(rows) | _public(repository)


@functools.lru_cache(maxsize=4)
def _grants_sql(vendor: str) -> str:
    """The permissions a user holds on a repository, directly or through a team.

    Asked on every registry request, so written as one raw query: building the equivalent ORM
    query (an OR across the team join, plus the model's default ordering) cost more than
    running it."""
    from django.contrib.auth import get_user_model

    from accounts.models import RepositoryGrant

    quote = connection.ops.quote_name
    grant = RepositoryGrant._meta
    membership = get_user_model().groups.through._meta

    def column(meta, name):
        return quote(meta.get_field(name).column)

    return (
        f"SELECT {column(grant, 'permission')} FROM {quote(grant.db_table)} "  # noqa: S608 - quoted identifiers only
        f"WHERE {column(grant, 'repository')} = %s AND ({column(grant, 'user')} = %s OR {column(grant, 'team')} IN "
        f"(SELECT {column(membership, 'group')} FROM {quote(membership.db_table)} "
        f"WHERE {column(membership, 'user')} = %s))"
    )


def token_repository_ids(token) -> set[int] | None:
    """The repositories a token is limited to, None for all; cached on the instance for the request."""
    if not hasattr(token, "_repository_ids"):
        ids = set(token.repositories.values_list("pk", flat=True))
        token._repository_ids = ids or None
    return token._repository_ids


def token_bound(token, repository: Repository) -> frozenset[str]:
    """The most a token's scope allows on a repository, before the creator's rights are applied."""
    if token is None:
        return frozenset(ALL_PERMISSIONS)
    if not token.is_active:
        return NOTHING
    ids = token_repository_ids(token)
    if ids is not None and repository.pk not in ids:
        return NOTHING
    return expand(token.permissions)


def token_allows(user, repository: Repository | None, permission: str) -> bool:
    """Whether the caller's token scope (if it acts through one) allows `permission` on the repository.

    For rights that come from being the owner of something (a build one started) rather than from a
    grant: the token still bounds them. Without a repository only a caller without a token passes.
    """
    token = acting_token(user)
    if token is None:
        return True
    return repository is not None and permission in token_bound(token, repository)


def token_scoped_repositories(user, permission: str) -> QuerySet[Repository] | None:
    """The repositories the caller's token scope allows `permission` on; None when there is no token."""
    token = acting_token(user)
    if token is None:
        return None
    if not token.is_active or permission not in expand(token.permissions):
        return Repository.objects.none()
    ids = token_repository_ids(token)
    return Repository.objects.all() if ids is None else Repository.objects.filter(pk__in=ids)


def effective_permissions(user, repository: Repository) -> frozenset[str]:
    """What the caller may do now: grants, bounded by the acting token; public read always."""
    granted = granted_permissions(user, repository)
    token = acting_token(user)
    if token is None:
        return granted
    return (granted & token_bound(token, repository)) | _public(repository)


def user_can(user, repository: Repository, permission: str) -> bool:
    """Whether `user` (possibly anonymous, possibly acting through a token) holds `permission`."""
    return permission in effective_permissions(user, repository)


def request_can(request, repository: Repository, permission: str) -> bool:
    """Like user_can for the caller of a request (an API token never exceeds its scope)."""
    return user_can(getattr(request, "user", None), repository, permission)


def is_site_admin(user) -> bool:
    """A superuser signed in as themself: an API token never carries site-wide administration."""
    return _is_person(user) and user.is_superuser and acting_token(user) is None


def readable_repositories(user) -> QuerySet[Repository]:
    public = Q(is_public=True)
    if not _is_person(user):
        return Repository.objects.filter(public)
    from accounts.models import RepositoryGrant

    if user.is_superuser:
        reachable = Repository.objects.all()
    else:
        granted = RepositoryGrant.objects.filter(_user_grants_filter(user)).values("repository")
        reachable = Repository.objects.filter(pk__in=granted)
    token = acting_token(user)
    if token is not None:
        ids = token_repository_ids(token)
        if not token.is_active or not expand(token.permissions):
            reachable = Repository.objects.none()
        elif ids is not None:
            reachable = reachable.filter(pk__in=ids)
    return Repository.objects.filter(public | Q(pk__in=reachable.values("pk")))
