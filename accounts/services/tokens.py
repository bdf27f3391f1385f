"""API tokens: created by a user, shown once, stored hashed, bounded by the creator's rights, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts import errors
from accounts.models import ApiToken, AuditEvent
from accounts.permissions import ALL_PERMISSIONS, acting_token, effective_permissions, expand, is_site_admin
from accounts.services.audit import audit_record
from repos.models import Repository

TOKEN_PREFIX = "rgt_"
MAX_LIFETIME = timedelta(days=366)
LAST_USED_RESOLUTION = timedelta(minutes=1)


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    creator,
    name: str,
    permissions: list[str],
    repositories: list[Repository],
    expires_at: datetime,
    request=None,
    purpose: str = "user",
) -> tuple[ApiToken, str]:
    """A new token and its secret (the only time the secret exists outside the caller's hands)."""
    if acting_token(creator) is not None:
        raise errors.Forbidden("an API token cannot create tokens; sign in with your password")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise errors.InvalidRequest("a name of 1 to 100 characters is required", field="name")
    wanted = set(permissions or [])
    if not wanted or not wanted <= set(ALL_PERMISSIONS):
        raise errors.InvalidRequest(
            f"permissions: a non-empty subset of {', '.join(ALL_PERMISSIONS)}", field="permissions"
        )
    now = timezone.now()
    if expires_at <= now or expires_at > now + MAX_LIFETIME:
        raise errors.InvalidRequest("the expiry must be in the future and within a year", field="expires_at")
    for repository in repositories:
        held = effective_permissions(creator, repository)
        if not held:
            # Same answer as for a repository that does not exist: nothing leaks.
            raise errors.InvalidRequest(f"unknown repository {repository.key}", field="repositories")
        missing = expand(wanted) - held
        if missing:
            raise errors.InvalidRequest(
                f"you do not hold {', '.join(sorted(missing))} on {repository.key}", field="permissions"
            )
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=creator,
            name=name,
            prefix=prefix,
            secret_hash=_hash(secret),
            permissions=sorted(wanted),
            expires_at=expires_at,
            purpose=purpose,
        )
        token.repositories.set(repositories)
        audit_record(
            action=AuditEvent.Action.TOKEN_CREATED,
            actor=creator,
            request=request,
            target=f"token:{prefix}",
            detail={
                "name": name,
                "permissions": sorted(wanted),
                "repositories": [r.key for r in repositories],
                "expires_at": expires_at.isoformat(),
            },
        )
    return token, secret


def token_revoke(*, actor, token: ApiToken, request=None) -> ApiToken:
    if acting_token(actor) is not None:
        raise errors.Forbidden("an API token cannot revoke tokens; sign in with your password")
    if token.user_id != actor.pk and not is_site_admin(actor):
        raise errors.NotFound("no such token")
    if token.revoked_at is None:
        now = timezone.now()
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.revoked_at = now
        if updated:
            audit_record(
                action=AuditEvent.Action.TOKEN_REVOKED,
                actor=actor,
                request=request,
                target=f"token:{token.prefix}",
                detail={"name": token.name, "owner": token.user.username},
            )
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The active token with this secret, its user loaded, or None. Constant-time on the hash."""
    if not looks_like_token(secret):
        return None
    prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used is None or token.last_used < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token
