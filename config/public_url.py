"""The address users reach this server at: `PUBLIC_URL` when set, else the request's own (already checked
against ALLOWED_HOSTS). Links that leave the request — a token realm, a password-reset e-mail, a pull
command — are built from here, never from an unchecked Host header."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def public_base_url(request) -> str:
    """`scheme://host[:port]` without a trailing slash."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    return f"{request.scheme}://{request.get_host()}"


def public_host(request) -> str:
    """`host[:port]`, as registry clients name the server (`docker pull HOST/...`)."""
    return urlsplit(public_base_url(request)).netloc


def public_url(request, path: str) -> str:
    return public_base_url(request) + path


def context(request) -> dict:
    """Template context processor: `{{ public_host }}` for pull and push commands."""
    return {"public_host": public_host(request)}
