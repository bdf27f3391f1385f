"""The public permission API (accounts.permissions) and API-token scope rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts import errors
from accounts.models import ApiToken, AuditEvent, RepositoryGrant
from accounts.permissions import (
    ADMIN,
    ALL_PERMISSIONS,
    DELETE,
    PROMOTE,
    READ,
    WRITE,
    readable_repositories,
    request_can,
    user_can,
)
from accounts.services.credentials import authenticate_secret
from accounts.services.tokens import token_authenticate, token_create, token_revoke

EXPECTED = {
    "outsider": set(),
    "reader": {READ},
    "writer": {READ, WRITE},
    "deleter": {READ, WRITE, DELETE},
    "promoter": {READ, PROMOTE},
    "repo_admin": set(ALL_PERMISSIONS),
    "site_admin": set(ALL_PERMISSIONS),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_holds_exactly_its_permissions(world, role):
    user = world.users[role]
    assert {p for p in ALL_PERMISSIONS if user_can(user, world.private, p)} == EXPECTED[role]
    # Everyone reads the public repository; nobody but the site admin does more there.
    public = {p for p in ALL_PERMISSIONS if user_can(user, world.public, p)}
    assert public == (set(ALL_PERMISSIONS) if role == "site_admin" else {READ})


def test_anonymous_and_inactive_users_read_public_only(world):
    for user in (None, AnonymousUser()):
        assert user_can(user, world.public, READ) and not user_can(user, world.public, WRITE)
        assert not user_can(user, world.private, READ)
        assert set(readable_repositories(user)) == {world.public}
    admin = type(world.users["site_admin"]).objects.get(pk=world.users["site_admin"].pk)
    admin.is_active = False
    assert not user_can(admin, world.private, READ)


def test_team_grants_follow_membership(world):
    reader = world.users["reader"]
    assert user_can(reader, world.private, READ)
    world.team.user_set.remove(reader)
    assert not user_can(reader, world.private, READ)


def test_readable_repositories(world):
    assert set(readable_repositories(world.users["outsider"])) == {world.public}
    assert set(readable_repositories(world.users["promoter"])) == {world.public, world.private}
    assert set(readable_repositories(world.users["site_admin"])) == {world.public, world.private, world.target}


def _acting(world, role):
    token, secret = world.tokens[role]
    return authenticate_secret(None, username="token", secret=secret, channel="test")


def test_a_token_never_exceeds_its_scope(world):
    writer_token = _acting(world, "token_rw")
    assert writer_token.acting_token.pk == world.tokens["token_rw"][0].pk
    assert {p for p in ALL_PERMISSIONS if user_can(writer_token, world.private, p)} == {READ, WRITE}
    admin_token = _acting(world, "token_ro")
    assert {p for p in ALL_PERMISSIONS if user_can(admin_token, world.private, p)} == {READ}
    # Outside its repositories only what anonymous has: the public read.
    assert {p for p in ALL_PERMISSIONS if user_can(admin_token, world.public, p)} == {READ}
    assert not user_can(admin_token, world.target, READ)
    assert set(readable_repositories(admin_token)) == {world.public, world.private}

    class FakeRequest:
        user = admin_token

    assert request_can(FakeRequest(), world.private, READ) and not request_can(FakeRequest(), world.private, WRITE)


def test_a_token_loses_what_its_creator_loses(world):
    acting = _acting(world, "token_rw")
    assert user_can(acting, world.private, WRITE)
    RepositoryGrant.objects.filter(user=world.users["writer"]).update(permission=READ)
    assert not user_can(acting, world.private, WRITE) and user_can(acting, world.private, READ)


def test_revoked_and_expired_tokens_authenticate_nobody(world):
    token, secret = world.tokens["token_rw"]
    assert token_authenticate(secret) is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_authenticate(secret) is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(days=1))
    token_revoke(actor=world.users["writer"], token=token)
    assert token_authenticate(secret) is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED, actor_name="writer").count() == 1


def test_token_creation_cannot_exceed_the_creators_rights(world):
    later = timezone.now() + timedelta(days=30)
    reader = world.users["reader"]
    with pytest.raises(errors.InvalidRequest, match="do not hold write"):
        token_create(creator=reader, name="x", permissions=[WRITE], repositories=[world.private], expires_at=later)
    # A repository the creator cannot read answers like one that does not exist.
    with pytest.raises(errors.InvalidRequest, match="unknown repository docker-local"):
        token_create(
            creator=world.users["outsider"],
            name="x",
            permissions=[READ],
            repositories=[world.private],
            expires_at=later,
        )
    with pytest.raises(errors.Forbidden):
        token_create(
            creator=_acting(world, "token_rw"), name="x", permissions=[READ], repositories=[], expires_at=later
        )
    with pytest.raises(errors.InvalidRequest):
        token_create(
            creator=reader,
            name="x",
            permissions=[READ],
            repositories=[],
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    with pytest.raises(errors.InvalidRequest):
        token_create(creator=reader, name="x", permissions=["root"], repositories=[], expires_at=later)
    token, secret = token_create(
        creator=reader, name="ok", permissions=[READ], repositories=[world.private], expires_at=later
    )
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("rgt_") and secret not in str(stored.__dict__)
    assert stored.secret_hash != secret and len(stored.secret_hash) == 64


def test_a_token_of_a_superuser_is_not_a_site_admin(world):
    from accounts.permissions import is_site_admin

    assert is_site_admin(world.users["site_admin"])
    assert not is_site_admin(_acting(world, "token_ro"))
    assert user_can(_acting(world, "token_ro"), world.private, READ)
    assert not user_can(_acting(world, "token_ro"), world.private, ADMIN)


def test_a_remembered_password_stops_working_when_it_changes(world):
    from tests.support.world import PASSWORD

    assert authenticate_secret(None, username="writer", secret=PASSWORD, channel="test") is not None
    writer = type(world.users["writer"]).objects.get(username="writer")
    writer.set_password("a brand new password")
    writer.save()
    assert authenticate_secret(None, username="writer", secret=PASSWORD, channel="test") is None
    assert authenticate_secret(None, username="writer", secret="a brand new password", channel="test") == writer
