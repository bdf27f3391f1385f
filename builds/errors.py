"""Errors of the build domain. The API renders BuildInvalid as a 400 on its field."""

from __future__ import annotations


class BuildError(Exception):
    """A build failed for a reason worth showing to its owner as is."""


class BuildInvalid(BuildError):
    """The request is refused before anything runs."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class BuildDenied(BuildError):
    """The user may not do this to this repository or build."""


class BuildConflict(BuildError):
    """The build is in a state that does not allow this (e.g. cancelling a finished build)."""


class ArchiveRefused(BuildInvalid):
    """A context archive with an unsafe entry or beyond the limits."""

    def __init__(self, message: str):
        super().__init__("context", message)


class BuildStopped(BuildError):
    """The build was cancelled or ran out of time; `reason` is `cancelled` or `timed out`."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
