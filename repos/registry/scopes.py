"""Registry scopes (`repository:<name>:pull,push`) and what a caller is granted of them.

Permissions are per repository (the first segment of a name), so a name's actions follow from the
caller's permissions on its repository: pull = read, push = write, delete = delete, `*` = admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.permissions import ADMIN, DELETE, READ, WRITE, effective_permissions, is_site_admin
from repos.models import Repository
from repos.oci import names

ACTION_PERMISSION = {"pull": READ, "push": WRITE, "delete": DELETE, "*": ADMIN}
MAX_SCOPES = 20


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope(raw: str) -> Scope | None:
    """`type:name:actions`; a name holds no colon in this registry. None when malformed."""
    parts = raw.strip().split(":")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    type_, name, actions = parts
    wanted = tuple(dict.fromkeys(a.strip() for a in actions.split(",") if a.strip()))
    return Scope(type=type_, name=name, actions=wanted)


def parse_scopes(values: list[str]) -> list[Scope]:
    """Every scope in the `scope` parameters (several may be given, each possibly space-separated)."""
    scopes: list[Scope] = []
    for value in values:
        for raw in value.split(" "):
            scope = parse_scope(raw) if raw else None
            if scope is not None and len(scopes) < MAX_SCOPES:
                scopes.append(scope)
    return scopes


def repository_of(name: str) -> Repository | None:
    if not names.is_valid_name(name):
        return None
    try:
        key, _ = names.split_name(name)
    except ValueError:
        return None
    return Repository.objects.filter(key=key).first()


def repository_key_of(name: str) -> str:
    return name.split("/", 1)[0]


def actions_for_permissions(permissions) -> set[str]:
    return {action for action, permission in ACTION_PERMISSION.items() if permission in permissions}


def granted_access(user, scopes: list[Scope]) -> list[dict]:
    """The intersection of what was asked and what the caller holds now; an empty grant is no error."""
    access = []
    for scope in scopes:
        granted: list[str] = []
        if scope.type == "repository":
            repository = repository_of(scope.name)
            if repository is not None:
                held = actions_for_permissions(effective_permissions(user, repository))
                granted = [action for action in scope.actions if action in held]
        elif scope.type == "registry" and scope.name == "catalog" and is_site_admin(user):
            granted = [action for action in scope.actions if action == "*"]
        access.append({"type": scope.type, "name": scope.name, "actions": granted})
    return access


def access_by_repository(access: list[dict]) -> dict[str, set[str]]:
    """A token's `access` claim folded per repository key, the unit permissions are granted on."""
    folded: dict[str, set[str]] = {}
    for entry in access:
        if not isinstance(entry, dict) or entry.get("type") != "repository":
            continue
        name, actions = entry.get("name"), entry.get("actions")
        if not isinstance(name, str) or not isinstance(actions, list):
            continue
        folded.setdefault(repository_key_of(name), set()).update(a for a in actions if isinstance(a, str))
    return folded
