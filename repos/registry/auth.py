"""Who the caller of a /v2/ request is, and whether they may do what they ask.

Callers present a registry bearer token (the Docker token flow), Basic credentials (a password or
an API token), `Bearer <API token>`, or a browser session (CSRF-checked on writes); otherwise they
are anonymous. The answers:
- bad credentials: 401 with the challenge;
- anonymous and not allowed: 401 with the challenge and the scope to ask for;
- a bearer token that says nothing about the repository: 401 `insufficient_scope`;
- allowed to read but not to do the rest: 403 DENIED;
- not allowed to read: 404 NAME_UNKNOWN, exactly as for a repository that does not exist.
A repository that does not exist is treated as one the caller cannot read (see `screen_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.middleware.csrf import CsrfViewMiddleware

from accounts.permissions import WRITE, effective_permissions, user_can
from accounts.permissions import readable_repositories as readable_for_user
from accounts.services.credentials import authenticate_secret, authenticate_token, parse_basic
from accounts.services.login_throttle import LoginThrottled
from accounts.services.tokens import looks_like_token
from config.public_url import public_url
from repos import errors
from repos.models import Repository
from repos.registry import tokens as registry_tokens
from repos.registry.scopes import access_by_repository, actions_for_permissions, repository_key_of
from repos.registry.subjects import subject_user
from repos.services.resolution import push_target as target_of

PULL = "pull"
PUSH = "push"
DELETE = "delete"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ACTION_ORDER = ["pull", "push", "delete"]
_CALLER = "_registry_caller"


@dataclass
class Caller:
    user: object
    via: str  # anonymous | session | basic | api_token | bearer
    access: dict[str, set[str]] | None = None  # a bearer token's grants per repository key

    @property
    def anonymous(self) -> bool:
        return self.via == "anonymous"


def realm(request) -> str:
    return settings.REGISTRY_TOKEN_REALM or public_url(request, "/v2/token")


def challenge(
    request,
    *,
    scope: str = "",
    error: str = "",
    message: str = "authentication required",
    status_error=errors.Unauthorized,
) -> errors.RegistryError:
    parts = [f'realm="{realm(request)}"', f'service="{registry_tokens.service_name()}"']
    if scope:
        parts.append(f'scope="{scope}"')
    if error:
        parts.append(f'error="{error}"')
    return status_error(message, headers={"WWW-Authenticate": "Bearer " + ",".join(parts)})


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _csrf_failure(request) -> str | None:
    check = _CsrfCheck(lambda req: None)  # type: ignore[arg-type]  # only process_view runs: no response is made
    check.process_request(request)
    return check.process_view(request, None, (), {})  # type: ignore[arg-type,return-value]  # _reject gives the reason


def _identify(request) -> Caller:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            parsed = parse_basic(header)
            try:
                user = parsed and authenticate_secret(request, username=parsed[0], secret=parsed[1], channel="registry")
            except LoginThrottled as exc:
                raise errors.TooManyRequests(str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
            if not user:
                raise challenge(request, message="invalid credentials")
            return Caller(user=user, via="api_token" if getattr(user, "acting_token", None) else "basic")
        if scheme.lower() == "bearer" and value:
            if looks_like_token(value):
                user = authenticate_token(request, value, channel="registry")
                if user is None:
                    raise challenge(request, error="invalid_token", message="invalid token")
                return Caller(user=user, via="api_token")
            return _bearer_caller(request, value)
        raise challenge(request, message="unsupported authorization scheme")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if request.method not in SAFE_METHODS and _csrf_failure(request):
            raise errors.Denied("CSRF check failed: use a token or Basic credentials for writes")
        return Caller(user=user, via="session")
    return Caller(user=AnonymousUser(), via="anonymous")


def _bearer_caller(request, raw: str) -> Caller:
    try:
        claims = registry_tokens.token_verify(raw)
    except registry_tokens.InvalidRegistryToken:
        raise challenge(request, error="invalid_token", message="invalid token") from None
    user = AnonymousUser()
    if claims["sub"]:
        # Checked against the database on every request: a deactivated user or a revoked API token
        # is refused at once, in every process.
        user = subject_user(claims["sub"], claims.get("tok"))
        if user is None:
            raise challenge(request, error="invalid_token", message="invalid token")
    return Caller(user=user, via="bearer", access=access_by_repository(claims.get("access", [])))


def caller(request) -> Caller:
    """The caller, identified once per request; request.user becomes the authenticated user."""
    found = getattr(request, _CALLER, None)
    if found is None:
        found = _identify(request)
        setattr(request, _CALLER, found)
        request.user = found.user
    return found


def held_actions(found: Caller, repository: Repository | None) -> set[str]:
    """What the caller's permissions allow now, whatever a bearer token claims."""
    if repository is None:
        return set()
    return actions_for_permissions(effective_permissions(found.user, repository))


def claimed_actions(found: Caller, repository: Repository | None, held: set[str]) -> set[str]:
    """Of the held actions, those a bearer token also claims (all of them for other callers)."""
    if found.access is None or repository is None:
        return held
    claimed = found.access.get(repository.key, set())
    return held if "*" in claimed else held & claimed


def _scope_name(request, key: str) -> str:
    match = getattr(request, "resolver_match", None)
    name = (match.kwargs.get("name") if match else "") or ""
    if repository_key_of(name) != key:
        name = request.GET.get("from", "") if repository_key_of(request.GET.get("from", "")) == key else key
    return name


def _decide(request, found: Caller, repository: Repository | None, key: str, actions) -> None:
    wanted = set(actions)
    held = held_actions(found, repository)
    allowed = claimed_actions(found, repository, held)
    if wanted <= allowed:
        return
    # The challenge asks for pull and push (plus what is needed) whatever the request: the token
    # endpoint grants the intersection, and a client that pulls before it pushes (oras) then holds
    # one token good for both.
    asked = sorted(wanted | {"pull", "push"}, key=ACTION_ORDER.index)
    scope = f"repository:{_scope_name(request, key)}:{','.join(asked)}"
    if found.anonymous:
        raise challenge(request, scope=scope)
    if found.access is not None and (key not in found.access or wanted <= held):
        # The token was asked for less than is needed (or for another name): ask for a new one.
        raise challenge(request, scope=scope, error="insufficient_scope", message="insufficient scope")
    if "pull" not in held:
        raise errors.NameUnknown(detail={"name": _scope_name(request, key)})
    denied = errors.Denied(detail={"actions": sorted(wanted - allowed)})
    if found.access is not None:
        # Token clients (oras) look here for the scope; asking again gets the same answer.
        denied.headers = challenge(request, scope=scope, error="insufficient_scope").headers
    raise denied


def require(request, repository: Repository, *actions: str) -> None:
    """Raise the spec error when the caller may not perform `actions` on `repository`."""
    _decide(request, caller(request), repository, repository.key, actions)


def push_target(request, repository: Repository) -> Repository:
    """Where a push addressed to `repository` lands: itself (a local), its default deployment (a virtual: the caller
    must also be allowed to write there), or DENIED (a remote, a virtual without a default deployment)."""
    target = target_of(repository=repository)
    if target.pk != repository.pk and not user_can(caller(request).user, target, WRITE):
        raise errors.Denied(f"a push into {repository.key} lands in {target.key}: it needs write permission there")
    return target


def readable_repositories(request) -> QuerySet[Repository]:
    return readable_for_user(caller(request).user)


def require_base(request) -> None:
    """`GET /v2/`: 200 for any valid credentials, 401 with the challenge otherwise."""
    if caller(request).anonymous:
        raise challenge(request)


METHOD_ACTIONS = {"GET": ("pull",), "HEAD": ("pull",), "DELETE": ("delete",)}


def screen_error(request, exc: errors.RegistryError) -> errors.RegistryError:
    """A NAME_UNKNOWN for a repository that does not exist answers like one the caller cannot read,
    so neither anonymous callers (401) nor token holders (401 insufficient_scope) can probe names."""
    match = getattr(request, "resolver_match", None)
    name = match.kwargs.get("name") if match else None
    if not isinstance(exc, errors.NameUnknown) or not name:
        return exc
    key = repository_key_of(name)
    if Repository.objects.filter(key=key).exists():
        return exc
    try:
        _decide(request, caller(request), None, key, METHOD_ACTIONS.get(request.method, ("pull", "push")))
    except errors.RegistryError as screened:
        return screened
    return exc
