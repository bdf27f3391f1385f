"""Users and teams (Django groups): site administration, audited. Only a site admin may call these."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import errors
from accounts.models import AuditEvent
from accounts.permissions import is_site_admin
from accounts.services.audit import audit_record


def require_site_admin(actor) -> None:
    if not is_site_admin(actor):
        raise errors.Forbidden("site administrators only")


def _check_password(password: str, user=None) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise errors.InvalidRequest(" ".join(exc.messages), field="password") from None


def user_create(*, actor, username: str, password: str, email: str = "", is_superuser: bool = False, request=None):
    require_site_admin(actor)
    users = get_user_model()
    _check_password(password)
    try:
        with transaction.atomic():
            user = users.objects.create_user(
                username=username, email=email, password=password, is_superuser=is_superuser, is_staff=is_superuser
            )
            audit_record(
                action=AuditEvent.Action.USER_CREATED,
                actor=actor,
                request=request,
                target=f"user:{username}",
                detail={"is_superuser": is_superuser},
            )
    except IntegrityError:
        raise errors.InvalidRequest("this username is taken", field="username") from None
    return user


def user_update(
    *,
    actor,
    user,
    email: str | None = None,
    is_active: bool | None = None,
    is_superuser: bool | None = None,
    password: str | None = None,
    request=None,
):
    require_site_admin(actor)
    changed: dict = {}
    if email is not None and email != user.email:
        user.email = changed["email"] = email
    if is_active is not None and is_active != user.is_active:
        user.is_active = changed["is_active"] = is_active
    if is_superuser is not None and is_superuser != user.is_superuser:
        user.is_superuser = user.is_staff = changed["is_superuser"] = is_superuser
    if password:
        _check_password(password, user)
        user.set_password(password)
        changed["password"] = "changed"
    if changed:
        with transaction.atomic():
            user.save()
            audit_record(
                action=AuditEvent.Action.USER_CHANGED,
                actor=actor,
                request=request,
                target=f"user:{user.username}",
                detail=changed,
            )
    return user


def _members(usernames: list[str]):
    users = list(get_user_model().objects.filter(username__in=set(usernames)))
    unknown = set(usernames) - {u.username for u in users}
    if unknown:
        raise errors.InvalidRequest(f"unknown users: {', '.join(sorted(unknown))}", field="members")
    return users


def team_create(*, actor, name: str, members: list[str] | None = None, request=None) -> Group:
    require_site_admin(actor)
    users = _members(members or [])
    try:
        with transaction.atomic():
            team = Group.objects.create(name=name)
            team.user_set.set(users)
            audit_record(
                action=AuditEvent.Action.TEAM_CHANGED,
                actor=actor,
                request=request,
                target=f"team:{name}",
                detail={"created": True, "members": sorted(u.username for u in users)},
            )
    except IntegrityError:
        raise errors.InvalidRequest("this team name is taken", field="name") from None
    return team


def team_update(
    *, actor, team: Group, name: str | None = None, members: list[str] | None = None, request=None
) -> Group:
    require_site_admin(actor)
    detail: dict = {}
    try:
        with transaction.atomic():
            if name is not None and name != team.name:
                detail["renamed_from"] = team.name
                team.name = name
                team.save(update_fields=["name"])
            if members is not None:
                users = _members(members)
                team.user_set.set(users)
                detail["members"] = sorted(u.username for u in users)
            if detail:
                audit_record(
                    action=AuditEvent.Action.TEAM_CHANGED,
                    actor=actor,
                    request=request,
                    target=f"team:{team.name}",
                    detail=detail,
                )
    except IntegrityError:
        raise errors.InvalidRequest("this team name is taken", field="name") from None
    return team


def team_delete(*, actor, team: Group, request=None) -> None:
    require_site_admin(actor)
    with transaction.atomic():
        name = team.name
        team.delete()
        audit_record(
            action=AuditEvent.Action.TEAM_CHANGED,
            actor=actor,
            request=request,
            target=f"team:{name}",
            detail={"deleted": True},
        )
