"""Reads for accounts: what each caller may list. Writes live in accounts/services/."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import QuerySet

from accounts import errors
from accounts.models import ApiToken, AuditEvent, RepositoryGrant
from accounts.permissions import READ, is_site_admin, user_can
from repos.models import Repository


def users_visible_to(actor) -> QuerySet:
    """A site admin sees every user; anyone else only themself (no directory to enumerate)."""
    users = get_user_model().objects.prefetch_related("groups").order_by("username")
    return users if is_site_admin(actor) else users.filter(pk=actor.pk)


def teams_visible_to(actor) -> QuerySet[Group]:
    teams = Group.objects.prefetch_related("user_set").order_by("name")
    return teams if is_site_admin(actor) else teams.filter(user=actor)


def repository_readable_get(*, actor, key: str) -> Repository:
    """The repository, or NotFound when it does not exist or the actor may not read it."""
    repository = Repository.objects.filter(key=key).first()
    if repository is None or not user_can(actor, repository, READ):
        raise errors.NotFound("no such repository")
    return repository


def grants_of(*, repository: Repository) -> QuerySet[RepositoryGrant]:
    return RepositoryGrant.objects.filter(repository=repository).select_related("repository", "user", "team")


def tokens_visible_to(actor) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user").prefetch_related("repositories")
    return tokens if is_site_admin(actor) else tokens.filter(user=actor)


def audit_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()
