"""What a build may fetch and name: the Git URL allow-list policy and input grammar checks.

Git URLs: http, https and git:// only (no file://, no ssh with the worker's keys, no
credentials in the URL); the host must resolve to public addresses only, unless the admin lists
it in BUILD_GIT_ALLOWED_HOSTS. The clone pins the addresses checked here (http.curloptResolve)
and never follows redirects, so DNS rebinding or a redirect cannot reach an internal host.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from builds.errors import BuildInvalid
from repos.oci.platforms import is_valid_platform

ALLOWED_SCHEMES = {"https": 443, "http": 80, "git": 9418}
GIT_REF_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/@+-]{0,254}")
BUILD_ARG_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
STAGE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class CheckedGitUrl:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _host_allowed(host: str, port: int) -> bool:
    allowed = {entry.strip().lower() for entry in settings.BUILD_GIT_ALLOWED_HOSTS if entry.strip()}
    host = host.lower()
    return host in allowed or f"{host}:{port}" in allowed or f"[{host}]:{port}" in allowed


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BuildInvalid("git_url", f"cannot resolve host {host!r}: {exc}") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def git_url_check(url: str) -> CheckedGitUrl:
    """Refuse URLs outside the policy; returns the addresses the clone must use."""
    url = (url or "").strip()
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        raise BuildInvalid("git_url", "a Git URL is required (http, https or git://)")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BuildInvalid("git_url", f"scheme {scheme or '(none)'!r} is not allowed; use https, http or git")
    if parts.username is not None or parts.password is not None:
        raise BuildInvalid("git_url", "credentials in the URL are not accepted")
    host = parts.hostname or ""
    try:
        port = parts.port or ALLOWED_SCHEMES[scheme]
    except ValueError:
        raise BuildInvalid("git_url", "invalid port") from None
    if not host:
        raise BuildInvalid("git_url", "the URL has no host")
    addresses = _resolve(host, port)
    if not addresses:
        raise BuildInvalid("git_url", f"host {host!r} has no address")
    if not _host_allowed(host, port):
        blocked = [a for a in addresses if not _is_public(a)]
        if blocked:
            raise BuildInvalid(
                "git_url",
                f"host {host!r} resolves to a non-public address ({blocked[0]}); "
                "an admin may allow it in BUILD_GIT_ALLOWED_HOSTS",
            )
    return CheckedGitUrl(url=url, scheme=scheme, host=host, port=port, addresses=addresses)


def git_ref_check(ref: str) -> str:
    """A branch, tag or commit name; never an option (`-x`) or a refspec (`a:b`)."""
    ref = (ref or "").strip()
    if not ref:
        return ""
    if not GIT_REF_RE.fullmatch(ref) or ".." in ref or ref.endswith((".lock", "/", ".")):
        raise BuildInvalid("git_ref", f"invalid Git ref {ref[:80]!r}")
    return ref


def relative_path_check(field: str, value: str, *, default: str = "") -> str:
    """A relative path that stays inside its root (no absolute path, no `..`)."""
    value = (value or "").strip().replace("\\", "/") or default
    if not value:
        return ""
    if value.startswith("/") or "\x00" in value or len(value) > 1024:
        raise BuildInvalid(field, "must be a relative path inside the context")
    normalized = posixpath.normpath(value)
    if normalized == ".." or normalized.startswith("../") or "/../" in f"/{value}/":
        raise BuildInvalid(field, "must not leave the context (`..`)")
    return "" if normalized == "." else normalized


def build_args_check(args: dict, platforms: list[str] | None = None) -> dict:
    """KEY -> value for every platform; a platform of the build -> {KEY: value} for that platform only
    (the classic `ARG ARCH=` / `FROM ${ARCH}base` needs a different value per platform)."""
    checked: dict = {}
    count = 0
    for key, value in (args or {}).items():
        if isinstance(value, dict):
            if platforms is None or key not in platforms:
                raise BuildInvalid(
                    "build_args", f"{str(key)[:80]!r} is not a platform of this build ({', '.join(platforms or [])})"
                )
            checked[key] = _build_args_plain(value)
            count += len(checked[key])
        else:
            checked.update(_build_args_plain({key: value}))
            count += 1
    if count > 100:
        raise BuildInvalid("build_args", "at most 100 build arguments")
    return checked


def _build_args_plain(args: dict) -> dict[str, str]:
    checked = {}
    for key, value in args.items():
        if not isinstance(key, str) or not BUILD_ARG_RE.fullmatch(key):
            raise BuildInvalid("build_args", f"invalid build argument name {str(key)[:80]!r}")
        if isinstance(value, (dict, list)):
            raise BuildInvalid("build_args", f"the value of {key} must be a string")
        value = "" if value is None else str(value)
        if len(value) > 8192 or "\x00" in value:
            raise BuildInvalid("build_args", f"value of {key} is too long or has a NUL byte")
        checked[key] = value
    return checked


def build_arg_item_parse(item: str) -> tuple[str | None, str, str]:
    """`KEY=VALUE`, or `PLATFORM:KEY=VALUE` for one platform (`linux/arm64:ARCH=arm64v8/`)."""
    head, sep, value = item.partition("=")
    if not sep:
        raise BuildInvalid("build_args", f"expected KEY=VALUE or PLATFORM:KEY=VALUE, got {item[:80]!r}")
    platform, colon, key = head.strip().rpartition(":")
    return (platform.strip() if colon else None), key.strip(), value


def build_arg_items_parse(items) -> dict:
    result: dict = {}
    for item in items:
        platform, key, value = build_arg_item_parse(str(item))
        (result.setdefault(platform, {}) if platform else result)[key] = value
    return result


def target_stage_check(target: str) -> str:
    target = (target or "").strip()
    if target and not STAGE_RE.fullmatch(target):
        raise BuildInvalid("target", f"invalid target stage {target[:80]!r}")
    return target


def platforms_check(platforms: list[str]) -> list[str]:
    supported = list(settings.BUILD_PLATFORMS)
    chosen = list(dict.fromkeys(p.strip() for p in platforms or [] if p and p.strip()))
    if not chosen:
        raise BuildInvalid("platforms", f"choose at least one platform of {', '.join(supported)}")
    unknown = [p for p in chosen if p not in supported or not is_valid_platform(p)]
    if unknown:
        raise BuildInvalid("platforms", f"unsupported platform {unknown[0]!r}; workers build {', '.join(supported)}")
    return chosen
