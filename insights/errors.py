"""Errors the insights services raise (alerts, webhooks); the REST API and the pages render them."""

from __future__ import annotations

from config.errors import DomainError, field_detail


class InsightsError(DomainError):
    code = "INVALID"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, list[str]] | None = None):
        """`errors` maps each bad field to its messages; `field` names the one field `message` is about."""
        super().__init__(message, detail=(errors or field_detail(field, message)) if self.status == 400 else None)
        self.field = field
        self.errors = errors or {}


class InvalidRequest(InsightsError):
    """Input that breaks a rule; the detail maps `field` (or non_field_errors) to the message."""


class Forbidden(InsightsError):
    code = "DENIED"
    status = 403


class NotFound(InsightsError):
    code = "NOT_FOUND"
    status = 404
