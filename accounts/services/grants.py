"""Granting and revoking repository permissions, and making a repository public or private.

Only a repository admin (or a site admin) may do these; every change is audited.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from accounts import errors
from accounts.models import AuditEvent, Permission, RepositoryGrant
from accounts.permissions import ADMIN, READ, user_can
from accounts.services.audit import audit_record
from repos.models import Repository


def require_repository_admin(*, actor, repository: Repository) -> None:
    """NotFound when the actor cannot even read it (its existence stays hidden), Forbidden otherwise."""
    if user_can(actor, repository, ADMIN):
        return
    if user_can(actor, repository, READ):
        raise errors.Forbidden("you do not administer this repository")
    raise errors.NotFound("no such repository")


def grant_create(
    *, actor, repository: Repository, permission: str, user=None, team: Group | None = None, request=None
) -> RepositoryGrant:
    require_repository_admin(actor=actor, repository=repository)
    if permission not in Permission.values:
        raise errors.InvalidRequest(f"unknown permission {permission!r}", field="permission")
    if (user is None) == (team is None):
        raise errors.InvalidRequest("grant to exactly one user or one team", field="user")
    try:
        with transaction.atomic():
            grant = RepositoryGrant.objects.create(repository=repository, permission=permission, user=user, team=team)
            audit_record(
                action=AuditEvent.Action.PERMISSION_GRANTED,
                actor=actor,
                request=request,
                target=f"repository:{repository.key}",
                detail={"principal": grant.principal, "permission": permission},
            )
    except IntegrityError:
        raise errors.InvalidRequest("this grant exists already") from None
    return grant


def grant_delete(*, actor, grant: RepositoryGrant, request=None) -> None:
    require_repository_admin(actor=actor, repository=grant.repository)
    with transaction.atomic():
        detail = {"principal": grant.principal, "permission": grant.permission}
        target = f"repository:{grant.repository.key}"
        grant.delete()
        audit_record(
            action=AuditEvent.Action.PERMISSION_REVOKED, actor=actor, request=request, target=target, detail=detail
        )


def repository_visibility_set(*, actor, repository: Repository, is_public: bool, request=None) -> Repository:
    require_repository_admin(actor=actor, repository=repository)
    if repository.is_public != is_public:
        with transaction.atomic():
            Repository.objects.filter(pk=repository.pk).update(is_public=is_public)
            repository.is_public = is_public
            audit_record(
                action=AuditEvent.Action.VISIBILITY_CHANGED,
                actor=actor,
                request=request,
                target=f"repository:{repository.key}",
                detail={"is_public": is_public},
            )
    return repository
