"""Outbound URL policy: the one check before the server connects anywhere a user named.

Remote repositories (upstream registries) use it today; webhooks and anything else that calls a
user-given URL should too. Harbor and Nexus both shipped SSRF through such URLs (replication
targets, proxy URLs, webhook "test" buttons), so the rules are strict by default:
- http or https only, a host, no credentials in the URL (they would end up in logs and pages);
- every address the host resolves to must be public (not loopback, private, link-local such as
  169.254.169.254, multicast, reserved), IPv4-mapped IPv6 and decimal/octal IPv4 spellings
  included (they are resolved to addresses before the check);
- unless the caller allows private addresses (UPSTREAM_ALLOW_PRIVATE=1 for remotes).

Call `outbound_url_check` when the URL is saved (a clear error for the user) and again before
every connection and redirect hop (DNS may have changed since).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


class OutboundUrlRefused(ValueError):
    """The URL breaks the outbound policy; the message says why, for the user."""


@dataclass(frozen=True)
class CheckedUrl:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundUrlRefused(f"cannot resolve host {host!r}: {exc}") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def outbound_url_parse(url: str, *, schemes=tuple(DEFAULT_PORTS)) -> tuple[str, str, int]:
    """Scheme, host and port of a well-formed URL (no network access)."""
    url = (url or "").strip()
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        raise OutboundUrlRefused("a URL is required (http or https)")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise OutboundUrlRefused(f"scheme {scheme or '(none)'!r} is not allowed; use {' or '.join(schemes)}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise OutboundUrlRefused("credentials in the URL are not accepted; give them as username and password")
    host = parts.hostname or ""
    if not host:
        raise OutboundUrlRefused("the URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise OutboundUrlRefused("invalid port") from None
    if parts.query or parts.fragment:
        raise OutboundUrlRefused("the URL must not have a query or a fragment")
    return scheme, host, port


def outbound_url_check(url: str, *, allow_private: bool = False, schemes=tuple(DEFAULT_PORTS)) -> CheckedUrl:
    """Refuse a URL outside the policy; returns the addresses it resolves to now."""
    scheme, host, port = outbound_url_parse(url, schemes=schemes)
    addresses = _resolve(host, port)
    if not addresses:
        raise OutboundUrlRefused(f"host {host!r} has no address")
    if not allow_private:
        blocked = [a for a in addresses if not is_public_address(a)]
        if blocked:
            raise OutboundUrlRefused(
                f"host {host!r} resolves to a non-public address ({blocked[0]}); "
                "private and loopback upstreams need UPSTREAM_ALLOW_PRIVATE=1"
            )
    return CheckedUrl(url=url.strip(), scheme=scheme, host=host, port=port, addresses=addresses)
