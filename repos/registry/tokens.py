"""Registry bearer tokens (the Docker token flow): an ES256 JWT signed with a key made at first run.

The private key lives in $DATA_DIR (mode 0600), never in the repository. Verification accepts ES256
only and refuses any header that carries or points at key material (`jwk`, `jku`, `x5c`, `x5u`),
so a token cannot bring its own key (distribution CVE-2025-24976), nor use `none` or HS256.

A client repeats one token on every request of a pull or push, so each process remembers the
claims of the tokens it verified (a bounded LRU keyed by the exact token bytes, the audience,
issuer and signing key): the ECDSA check and JSON parsing run once per token, and expiry is still
checked on every use. What a token may do now (user active, API token not revoked) is not cached
here: repos.registry.subjects checks it against the database on every request.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

ALGORITHM = "ES256"
FORBIDDEN_HEADERS = ("jwk", "jku", "x5c", "x5u")
MIN_LIFETIME = 60
CLOCK_SKEW = 5
VERIFIED_CACHE_SIZE = 4096


class InvalidRegistryToken(Exception):
    pass


def load_or_create_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        return _ec_key(path.read_bytes())
    except FileNotFoundError:
        pass
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # O_EXCL: when several processes start at once, one writes the key and the others read it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the winner may still be writing
            data = path.read_bytes()
            if data.strip().endswith(b"-----"):
                return _ec_key(data)
            time.sleep(0.02)
        raise
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def _ec_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"the registry token key must be an EC key (ES256), not {type(key).__name__}")
    return key


@functools.lru_cache(maxsize=4)
def _keys(path: str) -> tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey, str]:
    private = load_or_create_private_key(Path(path))
    public = private.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = base64.b32encode(hashlib.sha256(der).digest()[:20]).decode().rstrip("=")
    return private, public, kid


@functools.lru_cache(maxsize=4)
def _key_path_of(configured: str, data_dir: str) -> str:
    return str(Path(configured) if configured else Path(data_dir) / "registry_token_key.pem")


def signing_keys():
    # Called on every request: the path is computed once per (setting, DATA_DIR), not rebuilt each time.
    return _keys(_key_path_of(getattr(settings, "REGISTRY_TOKEN_KEY_PATH", "") or "", str(settings.DATA_DIR)))


def public_key_pem() -> bytes:
    _, public, _ = signing_keys()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def service_name() -> str:
    return settings.REGISTRY_TOKEN_SERVICE


def issuer() -> str:
    return settings.REGISTRY_TOKEN_ISSUER


def lifetime() -> int:
    return max(int(settings.REGISTRY_TOKEN_LIFETIME_SECONDS), MIN_LIFETIME)


def token_issue(*, subject: str, access: list[dict], api_token_id: int | None = None) -> tuple[str, int, int]:
    """(jwt, expires_in, issued_at) for the subject (a username, "" for anonymous)."""
    private, _, kid = signing_keys()
    now = int(time.time())
    ttl = lifetime()
    claims = {
        "iss": issuer(),
        "sub": subject,
        "aud": service_name(),
        "exp": now + ttl,
        "nbf": now,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "access": access,
    }
    if api_token_id is not None:
        claims["tok"] = api_token_id
    return jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid}), ttl, now


class _VerifiedTokens:
    """Claims of tokens whose signature and claims were checked, until they expire; thread-safe, bounded."""

    def __init__(self, size: int):
        self.size = size
        self._claims: OrderedDict[tuple, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        with self._lock:
            claims = self._claims.get(key)
            if claims is not None:
                self._claims.move_to_end(key)
            return claims

    def put(self, key: tuple, claims: dict) -> None:
        with self._lock:
            self._claims[key] = claims
            self._claims.move_to_end(key)
            while len(self._claims) > self.size:
                self._claims.popitem(last=False)

    def discard(self, key: tuple) -> None:
        with self._lock:
            self._claims.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._claims.clear()


_verified = _VerifiedTokens(VERIFIED_CACHE_SIZE)


def _now() -> float:
    return time.time()


def token_verify(raw: str) -> dict:
    """The claims of a token this registry issued and that is valid now; InvalidRegistryToken otherwise.

    The returned dict is shared with the cache: read it, never change it."""
    _, _, kid = signing_keys()
    key = (raw, kid, service_name(), issuer())
    claims = _verified.get(key)
    if claims is None:
        claims = _token_verify_signed(raw)
        _verified.put(key, claims)
    if _now() >= claims["exp"] + CLOCK_SKEW:  # the bound PyJWT applies with the leeway, on every use
        _verified.discard(key)
        raise InvalidRegistryToken("token expired")
    return claims


def _token_verify_signed(raw: str) -> dict:
    _, public, kid = signing_keys()
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise InvalidRegistryToken(f"malformed token: {exc}") from None
    if header.get("alg") != ALGORITHM or any(name in header for name in FORBIDDEN_HEADERS):
        raise InvalidRegistryToken("unacceptable token header")
    if header.get("kid", kid) != kid:
        raise InvalidRegistryToken("unknown signing key")
    try:
        claims = jwt.decode(
            raw,
            public,
            algorithms=[ALGORITHM],
            audience=service_name(),
            issuer=issuer(),
            leeway=CLOCK_SKEW,
            options={"require": ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidRegistryToken(str(exc)) from None
    if not isinstance(claims.get("access", []), list) or not isinstance(claims.get("sub"), str):
        raise InvalidRegistryToken("malformed claims")
    return claims
