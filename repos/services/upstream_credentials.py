"""Upstream passwords and tokens, encrypted at rest (Fernet) and only ever decrypted to call out."""

from __future__ import annotations

import functools
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from config.secrets import load_or_create_secret


@functools.lru_cache(maxsize=4)
def _fernet(key: str, path: str) -> Fernet:
    if not key:
        key = load_or_create_secret(Path(path), lambda: Fernet.generate_key().decode())
    return Fernet(key.encode())


def _box() -> Fernet:
    return _fernet(settings.UPSTREAM_CREDENTIALS_KEY, settings.UPSTREAM_CREDENTIALS_KEY_PATH)


def credential_encrypt(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode() if secret else ""


def credential_decrypt(stored: str) -> str:
    """The clear secret; empty when none is stored or the key changed (the admin enters it again)."""
    if not stored:
        return ""
    try:
        return _box().decrypt(stored.encode()).decode()
    except InvalidToken:
        return ""
