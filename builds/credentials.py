"""The registry credentials of a build: short-lived API tokens of the user who asked.

Two are minted when the build starts, both expiring with the build's time limit and revoked when
it ends: the *push* credential (write on the target repository only), and the *pull* credential
(read-only, on every repository its owner can read), with which the builder pulls `FROM` images
of this registry — a private base image, or one in a virtual or remote repository — where the
builder's steps allow (buildah and the legacy docker builder pull in their build command and push
in another; buildx does both in one run and uses the push credential for both). Each is written
into its own private Docker config (also buildah's --authfile). They never carry more than their
owner holds, and never the admin's rights.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import ApiToken
from accounts.permissions import READ, WRITE, effective_permissions, expand, token_bound
from accounts.services.tokens import token_create, token_revoke
from builds.errors import BuildError
from builds.models import BuildJob

MARGIN = timedelta(minutes=10)


@dataclass
class RegistryCredential:
    username: str
    secret: str
    token: ApiToken | None = None


def _originating_token(job: BuildJob) -> ApiToken | None:
    """The API token the build was asked through (None if it was asked with a password or a session).

    A build asked through a token never gets more than the token allows now: a revoked or expired token
    stops it, and the credentials minted for it stay within the token's scope.
    """
    if job.token_id is None:
        return None
    requester = job.requested_by_id
    token = ApiToken.objects.filter(pk=job.token_id, user_id=requester).first() if requester is not None else None
    if token is None or not token.is_active:
        raise BuildError("the API token this build was started with has been revoked or has expired")
    return token


def build_credential_issue(*, job: BuildJob) -> RegistryCredential | None:
    """None when the build has no owner any more (it then pushes anonymously and is refused if denied)."""
    user = job.requested_by
    if user is None or job.repository is None:
        return None
    if not user.is_active:
        raise BuildError(f"user {user.get_username()} is disabled")
    token = _originating_token(job)
    if token is not None and WRITE not in token_bound(token, job.repository):
        raise BuildError(f"the API token this build was started with may not write to {job.repository.key}")
    token, secret = token_create(
        creator=user,
        name=_token_name(job),
        permissions=[WRITE],
        repositories=[job.repository],
        expires_at=timezone.now() + timedelta(seconds=job.time_limit) + MARGIN,
        purpose="build",
    )
    return RegistryCredential(username=user.get_username(), secret=secret, token=token)


def build_pull_credential_issue(*, job: BuildJob) -> RegistryCredential | None:
    """Read-only, every repository the requester can read (token repositories left empty) — or, for a build
    asked through an API token, only what that token may read."""
    user = job.requested_by
    if user is None or not user.is_active:
        return None
    repositories = []
    origin = _originating_token(job)
    if origin is not None:
        if READ not in expand(origin.permissions):
            return None
        repositories = [r for r in origin.repositories.all() if READ in effective_permissions(user, r)]
        if origin.repositories.exists() and not repositories:
            return None
    token, secret = token_create(
        creator=user,
        name=_token_name(job, "pulls"),
        permissions=[READ],
        repositories=repositories,
        expires_at=timezone.now() + timedelta(seconds=job.time_limit) + MARGIN,
    )
    return RegistryCredential(username=user.get_username(), secret=secret, token=token)


def build_credential_revoke(*, credential: RegistryCredential | None) -> None:
    if credential is not None and credential.token is not None:
        owner = get_user_model().objects.get(pk=credential.token.user_id)  # a fresh object: acting as itself
        token_revoke(actor=owner, token=credential.token)


def build_credentials_revoke_all(*, job: BuildJob) -> int:
    """Revoke what a build minted when its worker could not (the reconciler calls this)."""
    if job.requested_by is None:
        return 0
    names = [_token_name(job), _token_name(job, "pulls")]
    tokens = ApiToken.objects.filter(user=job.requested_by, name__in=names, revoked_at__isnull=True)
    for token in tokens:
        build_credential_revoke(credential=RegistryCredential(username="", secret="", token=token))
    return len(tokens)


def _token_name(job: BuildJob, purpose: str = "push") -> str:
    return f"build #{job.pk} (minted for its {purpose})"


def auth_file_write(path: Path, *, registry_host: str, credential: RegistryCredential | None) -> None:
    """A Docker config.json (readable by docker, buildx and buildah) holding only this credential."""
    auths = {}
    if credential is not None:
        raw = f"{credential.username}:{credential.secret}".encode()
        auths[registry_host] = {"auth": base64.b64encode(raw).decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": auths}, handle)
