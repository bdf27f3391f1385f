"""The base of every domain's errors: a stable machine code, an HTTP status, a message and optional detail.

Each domain declares its own subclasses (repos/errors.py, accounts/errors.py, builds/errors.py,
insights/errors.py); the REST API renders all of them in one envelope (config/api_errors.py) and
`/v2/` renders the registry's in the OCI envelope (repos/registry/views/base.py).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "UNKNOWN"
    status = 500
    message = "unknown error"

    def __init__(self, message: str | None = None, *, detail: Any = None, headers: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.detail = detail
        self.headers = headers or {}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "detail": self.detail}


def field_detail(field: str | None, message: str) -> dict[str, list[str]]:
    """The detail of an input error: field name -> messages, the same map DRF's validation gives."""
    return {field or "non_field_errors": [message]}
