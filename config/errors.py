"""The base of every domain's errors: a stable machine code, an HTTP status, a message and optional detail.

Each domain declares its own subclasses (repos/errors.py, accounts/errors.py, builds/errors.py,
insights/errors.py); the REST API renders all of them in one envelope (config/api_errors.py) and
`/v2/` renders the registry's in the OCI envelope (repos/registry/views/base.py); a dashboard form shows
an input error's messages on its fields (show_on_form).
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


def show_on_form(form: Any, exc: DomainError) -> None:
    """A refusal on the dashboard form whose input was refused: each message of an input error's detail
    (field name -> messages) on its field when the form has it, anything else on the whole form."""
    detail = exc.detail if exc.status == 400 and isinstance(exc.detail, dict) else {None: [exc.message]}
    for field, messages in detail.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
