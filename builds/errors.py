"""Errors of the build domain; the REST API renders them in its envelope (config/api_errors.py)."""

from __future__ import annotations

from config.errors import DomainError, field_detail


class BuildError(DomainError):
    """A build failed for a reason worth showing to its owner as is."""

    code = "BUILD_FAILED"
    status = 500


class BuildInvalid(BuildError):
    """The request is refused before anything runs; the detail maps `field` to the message."""

    code = "INVALID"
    status = 400

    def __init__(self, field: str, message: str):
        super().__init__(message, detail=field_detail(field, message))
        self.field = field


class BuildDenied(BuildError):
    """The user may not do this to this repository or build."""

    code = "DENIED"
    status = 403


class BuildConflict(BuildError):
    """The build is in a state that does not allow this (e.g. cancelling a finished build)."""

    code = "BUILD_CONFLICT"
    status = 409


class ArchiveRefused(BuildInvalid):
    """A context archive with an unsafe entry or beyond the limits."""

    def __init__(self, message: str):
        super().__init__("context", message)


class BuildStopped(BuildError):
    """The build was cancelled or ran out of time; `reason` is `cancelled` or `timed out`."""

    code = "BUILD_STOPPED"
    status = 409

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
