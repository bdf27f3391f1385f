"""Repository lifecycle: seed, create, update, delete (locals, remotes and virtuals).

Every way in (browser, REST, `manage.py repository`) goes through these functions, so the rules
live here once: keys follow the OCI name grammar, a remote's upstream passes the outbound URL
policy and its password is stored encrypted, a virtual's members are locals or remotes and its
default deployment is one of its locals. Bad input raises `RepositoryInvalid` with the message per
field; nothing is written then.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from accounts.permissions import ADMIN, is_site_admin, user_can
from accounts.services.audit import audit_record
from config.outbound import OutboundUrlRefused, outbound_url_check
from repos.errors import RegistryError
from repos.models import Image, RemoteSettings, Repository, RepositoryBlob, VirtualMember
from repos.oci import names, platforms
from repos.services.upstream_credentials import credential_encrypt

MAX_REQUIRED_PLATFORMS = 16
MAX_MEMBERS = 32
MAX_TAG_CACHE_SECONDS = 30 * 24 * 3600

COMMON_FIELDS = ("description", "stage", "stage_order", "is_public", "tag_immutability", "required_platforms")
REMOTE_FIELDS = ("upstream_url", "username", "password", "library_prefix", "tag_cache_seconds")
VIRTUAL_FIELDS = ("members", "default_deployment")
ALL_FIELDS = ("key", "kind", *COMMON_FIELDS, *REMOTE_FIELDS, *VIRTUAL_FIELDS)


class RepositoryInvalid(RegistryError):
    """Input that breaks a rule; `errors` (the detail) maps each field to its messages."""

    code = "INVALID"
    status = 400

    def __init__(self, errors: dict[str, list[str]]):
        message = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        super().__init__(message, detail=errors)
        self.errors = errors


class RepositoryNotEmpty(RegistryError):
    """Deleting a repository that holds content needs a confirmation (`force`)."""

    code = "NOT_EMPTY"
    status = 409


# Stage labels of the seeded repositories, in order: the first is where CI pushes, the next where
# tested images are promoted. Orders leave gaps so stages can be inserted between them.
SEED_STAGES = ("dev", "release")
SEED_STAGE_STEP = 10


def seed_stage(position: int) -> tuple[str, int]:
    label = SEED_STAGES[position] if position < len(SEED_STAGES) else f"stage-{position + 1}"
    return label, (position + 1) * SEED_STAGE_STEP


def repositories_seed_defaults() -> list[Repository]:
    """Create the default local repositories, with their stages, on first run (no repository at all).

    Later runs never create one again (an admin may have deleted it) and never change existing
    ones, except that one still without any stage (seeded by an older version) gets its seeded
    stage, so the dashboard reads left to right as a pipeline.
    """
    first_run = not Repository.objects.exists()
    seeded = []
    repository: Repository | None
    for position, key in enumerate(settings.SEED_REPOSITORIES):
        stage, order = seed_stage(position)
        if first_run:
            repository, _ = Repository.objects.get_or_create(
                key=key, defaults={"description": f"Local repository {key}", "stage": stage, "stage_order": order}
            )
        else:
            repository = Repository.objects.filter(key=key).first()
            if repository is None:
                continue
            if not repository.stage and repository.stage_order == position:
                Repository.objects.filter(pk=repository.pk, stage="").update(stage=stage, stage_order=order)
                repository.refresh_from_db()
        seeded.append(repository)
    return seeded


def repository_create(*, user, data: dict[str, Any], system: bool = False, request=None) -> Repository:
    """Create a repository of any kind. Site admins only (`system`: the host's command line)."""
    if not system and not is_site_admin(user):
        raise PermissionDenied("creating repositories needs a site admin signed in as themself")
    _refuse_unknown(data)
    errors: dict[str, list[str]] = {}
    key = _clean_key(data.get("key"), errors)
    kind = _clean_kind(data.get("kind", Repository.Kind.LOCAL), errors)
    common = _clean_common(data, errors, creating=True)
    remote = _clean_remote(data, errors, kind=kind, current=None)
    virtual = _clean_virtual(data, errors, kind=kind, key=key)
    if key and Repository.objects.filter(key=key).exists():
        errors.setdefault("key", []).append(f"a repository {key} exists already")
    if errors:
        raise RepositoryInvalid(errors)
    try:
        with transaction.atomic():
            repository = Repository.objects.create(key=key, kind=kind, **common)
            if kind == Repository.Kind.REMOTE:
                RemoteSettings.objects.create(repository=repository, **remote)
            if kind == Repository.Kind.VIRTUAL:
                _set_members(repository, virtual)
    except IntegrityError:
        raise RepositoryInvalid({"key": [f"a repository {key} exists already"]}) from None
    _audit("repository_created", user=user, system=system, request=request, target=key, detail={"kind": kind})
    return repository


def repository_update(
    *, repository: Repository, user, data: dict[str, Any], system: bool = False, request=None
) -> Repository:
    """Change some settings (a partial update). Repository admins change the common settings;
    upstream and members need a site admin (they decide what the repository serves)."""
    _refuse_unknown(data)
    if not system:
        if not user_can(user, repository, ADMIN):
            raise PermissionDenied("admin permission on the repository is required")
        kind_fields = [f for f in (*REMOTE_FIELDS, *VIRTUAL_FIELDS) if f in data]
        if kind_fields and not is_site_admin(user):
            raise PermissionDenied(f"changing {', '.join(kind_fields)} needs a site admin")
    errors: dict[str, list[str]] = {}
    if "key" in data and data["key"] != repository.key:
        errors["key"] = ["the key of a repository cannot change (clients use it in every name)"]
    if "kind" in data and data["kind"] != repository.kind:
        errors["kind"] = ["the kind of a repository cannot change; create a new repository"]
    common = _clean_common(data, errors, creating=False)
    current = RemoteSettings.objects.filter(repository=repository).first()
    remote = _clean_remote(data, errors, kind=repository.kind, current=current, partial=True)
    virtual = _clean_virtual(data, errors, kind=repository.kind, key=repository.key, partial=True, current=repository)
    if errors:
        raise RepositoryInvalid(errors)
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        for field, value in common.items():
            setattr(locked, field, value)
        if common:
            locked.save(update_fields=list(common))
        if remote and current is not None:
            for field, value in remote.items():
                setattr(current, field, value)
            current.save(update_fields=list(remote))
        if virtual:
            _set_members(locked, virtual)
    changed = sorted(f for f in data if f not in ("key", "kind"))
    _audit(
        "repository_changed",
        user=user,
        system=system,
        request=request,
        target=repository.key,
        detail={"fields": changed},
    )
    return locked


def repository_has_content(repository: Repository) -> bool:
    return (
        Image.objects.filter(repository=repository).exists()
        or RepositoryBlob.objects.filter(repository=repository).exists()
    )


def repository_delete(*, repository: Repository, user, force: bool = False, system: bool = False, request=None) -> None:
    """Delete a repository. One that holds content needs `force`. Its rows go in one transaction;
    blobs and manifests stay for garbage collection, and a pull already streaming a blob finishes
    (it holds the open file). Virtuals listing it lose the member."""
    if not system and not is_site_admin(user):
        raise PermissionDenied("deleting repositories needs a site admin signed in as themself")
    if not force and repository_has_content(repository):
        raise RepositoryNotEmpty(
            f"repository {repository.key} holds images; confirm the deletion (force) to delete them with it"
        )
    key = repository.key
    with transaction.atomic():
        Repository.objects.filter(pk=repository.pk).delete()
    _audit("repository_deleted", user=user, system=system, request=request, target=key, detail={"force": force})


def _audit(action: str, *, user, system: bool, request, target: str, detail: dict) -> None:
    """A repository change in the audit log: by `user`, or by manage.py when `system`."""
    audit_record(
        action=action,
        actor=None if system else user,
        actor_name="manage.py" if system else "",
        request=request,
        target=target,
        detail=detail,
    )


# -- validation -------------------------------------------------------------------------------------


def _refuse_unknown(data: dict) -> None:
    unknown = sorted(set(data) - set(ALL_FIELDS))
    if unknown:
        raise RepositoryInvalid({field: ["unknown field"] for field in unknown})


def _clean_key(value, errors) -> str:
    key = value.strip() if isinstance(value, str) else ""
    if not key:
        errors["key"] = ["a key is required, e.g. docker-dev"]
    elif not names.is_valid_key(key):
        errors["key"] = [
            "lower-case letters and digits, with single . _ or - between them, at most 64 characters "
            "(the first segment of every image name)"
        ]
    return key


def _clean_kind(value, errors) -> str:
    if value not in Repository.Kind.values:
        errors["kind"] = [f"one of {', '.join(Repository.Kind.values)}"]
    return value


def _text(data, field, errors, *, limit: int) -> str | None:
    value = data[field]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = ["must be a string"]
        return None
    value = value.strip()
    if len(value) > limit:
        errors[field] = [f"at most {limit} characters"]
        return None
    return value


def _boolean(data, field, errors) -> bool | None:
    value = data[field]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    errors[field] = ["must be true or false"]
    return None


def _integer(data, field, errors, *, low: int, high: int) -> int | None:
    value = data[field]
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        number = int(value)
    if number is None or not low <= number <= high:
        errors[field] = [f"a whole number from {low} to {high}"]
        return None
    return number


def _platforms(data, errors) -> list[str] | None:
    value = data["required_platforms"]
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors["required_platforms"] = ["a list of platforms such as linux/amd64"]
        return None
    values = list(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    invalid = [v for v in values if not platforms.is_valid_platform(v)]
    if invalid:
        errors["required_platforms"] = [f"Not a platform (os/architecture[/variant]): {', '.join(invalid)}"]
        return None
    if len(values) > MAX_REQUIRED_PLATFORMS:
        errors["required_platforms"] = [f"at most {MAX_REQUIRED_PLATFORMS} platforms"]
        return None
    return values


def _clean_common(data, errors, *, creating: bool) -> dict:
    cleaned: dict[str, Any] = {}
    readers = {
        "description": lambda: _text(data, "description", errors, limit=2000),
        "stage": lambda: _text(data, "stage", errors, limit=32),
        "stage_order": lambda: _integer(data, "stage_order", errors, low=0, high=32767),
        "is_public": lambda: _boolean(data, "is_public", errors),
        "tag_immutability": lambda: _boolean(data, "tag_immutability", errors),
        "required_platforms": lambda: _platforms(data, errors),
    }
    for field, read in readers.items():
        if field in data:
            value = read()
            if value is not None:
                cleaned[field] = value
    if creating and "stage_order" not in data:
        last = Repository.objects.order_by("-stage_order").values_list("stage_order", flat=True).first()
        cleaned["stage_order"] = min((last or 0) + 1, 32767) if last is not None else 0
    return cleaned


def _clean_remote(data, errors, *, kind: str, current: RemoteSettings | None, partial: bool = False) -> dict:
    given = [f for f in REMOTE_FIELDS if f in data]
    if kind != Repository.Kind.REMOTE:
        for field in given:
            errors[field] = ["only remote repositories have this setting"]
        return {}
    cleaned: dict[str, Any] = {}
    if "upstream_url" in data or not partial:
        url = _text(data, "upstream_url", errors, limit=500) if "upstream_url" in data else ""
        if url is not None:
            cleaned["upstream_url"] = _upstream_url(url.rstrip("/"), errors)
    if "username" in data:
        username = _text(data, "username", errors, limit=255)
        if username is not None:
            cleaned["username"] = username
    if "password" in data:
        password = data["password"]
        if password is None:
            password = ""
        if not isinstance(password, str) or len(password) > 8192:
            errors["password"] = ["a string of at most 8192 characters"]
        else:
            cleaned["password_encrypted"] = credential_encrypt(password)
    if "library_prefix" in data:
        value = _boolean(data, "library_prefix", errors)
        if value is not None:
            cleaned["library_prefix"] = value
    if "tag_cache_seconds" in data:
        seconds = _integer(data, "tag_cache_seconds", errors, low=0, high=MAX_TAG_CACHE_SECONDS)
        if seconds is not None:
            cleaned["tag_cache_seconds"] = seconds
    username = cleaned.get("username", current.username if current else "")
    has_password = bool(cleaned.get("password_encrypted", current.password_encrypted if current else ""))
    if has_password and not username and "password" in data and data["password"]:
        errors.setdefault("username", []).append("a password needs a username")
    return cleaned


def _upstream_url(url: str, errors) -> str:
    if not url:
        errors["upstream_url"] = ["the upstream registry's URL is required, e.g. https://registry-1.docker.io"]
        return ""
    try:
        outbound_url_check(url, allow_private=settings.UPSTREAM_ALLOW_PRIVATE)
    except OutboundUrlRefused as exc:
        errors["upstream_url"] = [str(exc)]
    if url.lower().split("?")[0].rstrip("/").endswith("/v2"):
        errors.setdefault("upstream_url", []).append("give the registry's base URL, without /v2")
    return url


def _clean_virtual(
    data, errors, *, kind: str, key: str, partial: bool = False, current: Repository | None = None
) -> dict:
    given = [f for f in VIRTUAL_FIELDS if f in data]
    if kind != Repository.Kind.VIRTUAL:
        for field in given:
            errors[field] = ["only virtual repositories have this setting"]
        return {}
    if partial and not given:
        return {}
    if "members" in data:
        raw = data["members"]
        if isinstance(raw, str):
            raw = [part for part in re.split(r"[\s,]+", raw) if part]
        if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
            errors["members"] = ["a list of repository keys, in resolution order"]
            return {}
    else:
        raw = list(current.members.values_list("member__key", flat=True)) if current else []
    keys = list(dict.fromkeys(m.strip() for m in raw))
    if len(keys) > MAX_MEMBERS:
        errors["members"] = [f"at most {MAX_MEMBERS} members"]
        return {}
    found = {r.key: r for r in Repository.objects.filter(key__in=keys)}
    problems = [f"{k}: no such repository" for k in keys if k not in found]
    problems += [f"{k}: a virtual cannot contain itself" for k in keys if k == key]
    problems += [
        f"{k}: members are local or remote repositories"
        for k in keys
        if k in found and found[k].kind == Repository.Kind.VIRTUAL and k != key
    ]
    if problems:
        errors["members"] = problems
    if "default_deployment" in data:
        deploy_key = data["default_deployment"] or ""
    else:
        deploy_key = current.default_deployment.key if current and current.default_deployment else ""
    deployment = None
    if deploy_key:
        deployment = found.get(deploy_key)
        if deployment is None or deployment.kind != Repository.Kind.LOCAL:
            errors["default_deployment"] = [f"{deploy_key} is not a local repository among the members"]
    return {"members": [found[k] for k in keys if k in found], "default_deployment": deployment}


def _set_members(virtual: Repository, cleaned: dict) -> None:
    VirtualMember.objects.filter(virtual=virtual).delete()
    VirtualMember.objects.bulk_create(
        VirtualMember(virtual=virtual, member=member, position=position)
        for position, member in enumerate(cleaned["members"])
    )
    Repository.objects.filter(pk=virtual.pk).update(default_deployment=cleaned["default_deployment"])
    virtual.default_deployment = cleaned["default_deployment"]
