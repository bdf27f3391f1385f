"""Reads for accounts: what each caller may list and find. Writes live in accounts/services/."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent, RepositoryGrant
from accounts.permissions import is_site_admin
from repos.models import Repository


def users_visible_to(actor) -> QuerySet:
    """A site admin sees every user; anyone else only themself (no directory to enumerate)."""
    users = get_user_model().objects.prefetch_related("groups").order_by("username")
    return users if is_site_admin(actor) else users.filter(pk=actor.pk)


def user_visible_find(*, actor, pk: int):
    return users_visible_to(actor).filter(pk=pk).first()


def user_find(*, username: str):
    return get_user_model().objects.filter(username=username).first()


def teams_visible_to(actor) -> QuerySet[Group]:
    teams = Group.objects.prefetch_related("user_set").order_by("name")
    return teams if is_site_admin(actor) else teams.filter(user=actor)


def team_visible_find(*, actor, pk: int) -> Group | None:
    return teams_visible_to(actor).filter(pk=pk).first()


def team_find(*, name: str) -> Group | None:
    return Group.objects.filter(name=name).first()


def grants_of(*, repository: Repository) -> QuerySet[RepositoryGrant]:
    return RepositoryGrant.objects.filter(repository=repository).select_related("repository", "user", "team")


def grant_find(*, repository: Repository, pk: int) -> RepositoryGrant | None:
    return grants_of(repository=repository).filter(pk=pk).first()


def tokens_visible_to(actor) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user").prefetch_related("repositories")
    return tokens if is_site_admin(actor) else tokens.filter(user=actor)


def token_visible_find(*, actor, pk: int) -> ApiToken | None:
    return tokens_visible_to(actor).filter(pk=pk).first()


def tokens_own(*, user, purpose: str) -> QuerySet[ApiToken]:
    """The tokens of one purpose (user, build) `user` created (even a site admin's page lists only theirs)."""
    return tokens_visible_to(user).filter(user=user, purpose=purpose)


def build_tokens_active_count(*, user) -> int:
    """Build tokens of `user` still usable: builds in flight hold one each."""
    return tokens_own(user=user, purpose="build").filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).count()


def audit_events(*, action: str = "") -> QuerySet[AuditEvent]:
    """Security events, newest first (the model's order), optionally of one action."""
    events = AuditEvent.objects.all()
    return events.filter(action=action) if action else events
