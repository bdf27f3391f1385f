"""Reads for resolving names through virtual repositories."""

from __future__ import annotations

from repos.models import Repository


def virtual_members(*, repository: Repository) -> list[Repository]:
    """The members of a virtual, in resolution order."""
    return [m.member for m in repository.members.select_related("member").order_by("position")]
