"""Errors the account services raise; the REST API and the pages render them in one place each."""

from __future__ import annotations


class AccountsError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequest(AccountsError):
    status = 400


class Forbidden(AccountsError):
    status = 403


class NotFound(AccountsError):
    status = 404
