"""An HTTP client for an upstream `/v2/` registry (Docker Hub, GHCR, Quay, a CNCF distribution, another
instance of this project), as a remote repository uses it.

It answers the upstream's challenge the way docker does: `Bearer realm=...,service=...,scope=...`
by asking the realm for a token (with the configured username and password as Basic credentials,
anonymously otherwise) and retrying; `Basic` by sending the credentials. Tokens are kept per scope
until shortly before they expire. Every connection and every redirect hop passes the outbound URL
policy (blob downloads are often redirected to a CDN or a bucket); credentials never follow a
redirect to another host.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from config.outbound import OutboundUrlRefused, outbound_url_check
from repos.oci import media_types

MANIFEST_ACCEPT = ", ".join(
    [
        media_types.OCI_INDEX,
        media_types.DOCKER_MANIFEST_LIST_V2,
        media_types.OCI_MANIFEST,
        media_types.DOCKER_MANIFEST_V2,
    ]
)
MAX_REDIRECTS = 5
MAX_TAG_PAGES = 50
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class UpstreamError(Exception):
    """The upstream did not give what was asked; `status` is its HTTP status (0: no answer)."""

    def __init__(self, message: str, *, status: int = 0):
        super().__init__(message)
        self.status = status


class UpstreamNotFound(UpstreamError):
    pass


@dataclass
class _Token:
    value: str
    expires: float


@dataclass
class UpstreamClient:
    base_url: str
    username: str = ""
    password: str = ""
    allow_private: bool = False
    timeout: float = 30.0
    _tokens: dict = field(default_factory=dict, repr=False)
    _basic: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    # -- the registry API -----------------------------------------------------------------------
    def manifest(self, name: str, reference: str, *, limit: int) -> tuple[bytes, str, str]:
        """(raw bytes, media type, the digest the upstream claims) of a manifest or index."""
        response = self.request(
            "GET", name, f"/v2/{name}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}, stream=True
        )
        with response:
            self._expect_ok(response, f"manifest {name}:{reference}")
            raw = response.raw.read(limit + 1, decode_content=True)
        if len(raw) > limit:
            raise UpstreamError(f"manifest {name}:{reference} is larger than {limit} bytes")
        media_type = media_types.normalize_content_type(response.headers.get("Content-Type"))
        return raw, media_type, response.headers.get("Docker-Content-Digest", "")

    def blob(self, name: str, digest: str) -> requests.Response:
        """An open streamed response with the blob's bytes; the caller closes it."""
        response = self.request("GET", name, f"/v2/{name}/blobs/{digest}", stream=True)
        try:
            self._expect_ok(response, f"blob {digest}")
        except UpstreamError:
            response.close()
            raise
        return response

    def blob_size(self, name: str, digest: str) -> int | None:
        response = self.request("HEAD", name, f"/v2/{name}/blobs/{digest}")
        with response:
            self._expect_ok(response, f"blob {digest}")
            length = response.headers.get("Content-Length", "")
        return int(length) if length.isdigit() else None

    def tags(self, name: str) -> list[str]:
        path, found = f"/v2/{name}/tags/list?n=1000", []
        for _ in range(MAX_TAG_PAGES):
            response = self.request("GET", name, path)
            with response:
                self._expect_ok(response, f"tags of {name}")
                try:
                    found += [t for t in (response.json().get("tags") or []) if isinstance(t, str)]
                except ValueError:
                    raise UpstreamError(f"tags of {name}: the upstream sent no JSON") from None
                next_link = _next_link(response.headers.get("Link", ""))
            if not next_link:
                break
            path = next_link
        return found

    # -- transport --------------------------------------------------------------------------------
    def request(
        self, method: str, name: str, path: str, *, headers: dict | None = None, stream: bool = False
    ) -> requests.Response:
        url = urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))
        scope = f"repository:{name}:pull"
        response = self._send(method, url, headers or {}, scope, stream)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            if self._answer(challenge, scope):
                response = self._send(method, url, headers or {}, scope, stream)
        return response

    def _auth_header(self, scope: str) -> dict:
        with self._lock:
            token = self._tokens.get(scope)
            if token is not None and token.expires > time.monotonic():
                return {"Authorization": f"Bearer {token.value}"}
            basic = self._basic
        if basic and self.username:
            pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}

    def _answer(self, challenge: str, scope: str) -> bool:
        """Take what the challenge asks for; False when there is nothing to answer it with."""
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if scheme.lower() == "basic":
            if not self.username:
                return False
            with self._lock:
                self._basic = True
            return True
        if scheme.lower() != "bearer" or not params.get("realm"):
            return False
        query = {"service": params.get("service", "")}
        query["scope"] = params.get("scope") or scope
        auth = (self.username, self.password) if self.username else None
        response = self._send("GET", params["realm"], {}, None, False, params=query, auth=auth)
        with response:
            if response.status_code != 200:
                raise UpstreamError(
                    f"the upstream's token service answered {response.status_code}"
                    + (" (check the username and password)" if response.status_code in (401, 403) else ""),
                    status=response.status_code,
                )
            try:
                body = response.json()
            except ValueError:
                raise UpstreamError("the upstream's token service sent no JSON") from None
        value = body.get("token") or body.get("access_token")
        if not value:
            raise UpstreamError("the upstream's token service sent no token")
        lifetime = body.get("expires_in") if isinstance(body.get("expires_in"), int) else 60
        with self._lock:
            self._tokens[scope] = _Token(value=value, expires=time.monotonic() + max(lifetime - 10, 5))
        return True

    def _send(
        self,
        method: str,
        url: str,
        headers: dict,
        scope: str | None,
        stream: bool,
        *,
        params: dict | None = None,
        auth=None,
    ) -> requests.Response:
        """One request, following redirects by hand: each hop is checked; credentials stay on their host."""
        origin = urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            try:
                outbound_url_check(url.split("?", 1)[0], allow_private=self.allow_private)
            except OutboundUrlRefused as exc:
                raise UpstreamError(f"refused to connect: {exc}") from None
            same_host = urlsplit(url).netloc == origin
            sent = dict(headers)
            if same_host and scope is not None:
                sent.update(self._auth_header(scope))
            try:
                response = self._session.request(
                    method,
                    url,
                    headers=sent,
                    params=params,
                    auth=auth if same_host else None,
                    stream=stream,
                    allow_redirects=False,
                    timeout=(min(self.timeout, 10.0), self.timeout),
                )
            except requests.RequestException as exc:
                raise UpstreamError(f"cannot reach the upstream: {exc.__class__.__name__}: {exc}") from None
            if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                params = None
                response.close()
                if response.status_code == 303:
                    method = "GET"
                continue
            return response
        raise UpstreamError("too many redirects")

    @staticmethod
    def _expect_ok(response: requests.Response, what: str) -> None:
        if response.status_code == 200:
            return
        if response.status_code == 404:
            raise UpstreamNotFound(f"{what}: not found upstream", status=404)
        if response.status_code in (401, 403):
            raise UpstreamError(
                f"{what}: the upstream refused access ({response.status_code}); check the username and password",
                status=response.status_code,
            )
        raise UpstreamError(f"{what}: the upstream answered {response.status_code}", status=response.status_code)


def _next_link(header: str) -> str:
    match = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", header)
    return match.group(1) if match else ""


_clients: dict[tuple, UpstreamClient] = {}
_clients_lock = threading.Lock()


def upstream_client(*, repository_id: int, base_url: str, username: str, password: str) -> UpstreamClient:
    """One client (connection pool, tokens) per remote and settings, shared by the process's threads."""
    key = (repository_id, base_url, username, password, settings.UPSTREAM_ALLOW_PRIVATE)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            for old in [k for k in _clients if k[0] == repository_id]:
                _clients.pop(old)
            client = UpstreamClient(
                base_url=base_url,
                username=username,
                password=password,
                allow_private=settings.UPSTREAM_ALLOW_PRIVATE,
                timeout=settings.UPSTREAM_TIMEOUT_SECONDS,
            )
            _clients[key] = client
        return client
