"""Rows for tests: repositories, users, teams, grants and API tokens (tokens through the accounts service, so
their secrets are made and stored as in production)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import ApiToken, RepositoryGrant
from repos.models import Repository

PASSWORD = "correct horse battery staple"


class RepositoryFactory(factory.django.DjangoModelFactory[Repository]):
    class Meta:
        model = Repository
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"repo-{n}")
    description = "test repository"


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose password is PASSWORD."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user-{n}")
    password = factory.django.Password(PASSWORD)


class TeamFactory(factory.django.DjangoModelFactory[Group]):
    class Meta:
        model = Group
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.user_set.add(*extracted)


class GrantFactory(factory.django.DjangoModelFactory[RepositoryGrant]):
    """A permission on a repository, for a user (default) or a team (`team=...`, `user=None`)."""

    class Meta:
        model = RepositoryGrant
        django_get_or_create = ("repository", "user", "team", "permission")

    repository = factory.SubFactory(RepositoryFactory)
    user = factory.SubFactory(UserFactory)
    team = None
    permission = "read"


def api_token(user, *, name: str = "ci", permissions=("read",), repositories=(), days: int = 1) -> tuple[ApiToken, str]:
    """An API token made by the accounts service: (row, secret)."""
    from accounts.services.tokens import token_create

    return token_create(
        creator=user,
        name=name,
        permissions=list(permissions),
        repositories=list(repositories),
        expires_at=timezone.now() + timedelta(days=days),
    )
