"""Changing a repository's settings (description, stage, visibility, tag rules, required platforms)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.permissions import ADMIN, user_can
from repos.models import Repository

FIELDS = ("description", "stage", "stage_order", "is_public", "tag_immutability", "required_platforms")


def repository_update_settings(
    *,
    repository: Repository,
    user,
    description: str,
    stage: str,
    stage_order: int,
    is_public: bool,
    tag_immutability: bool,
    required_platforms: list[str],
) -> Repository:
    if not user_can(user, repository, ADMIN):
        raise PermissionDenied("admin permission on the repository is required")
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        locked.description = description
        locked.stage = stage
        locked.stage_order = stage_order
        locked.is_public = is_public
        locked.tag_immutability = tag_immutability
        locked.required_platforms = list(required_platforms)
        locked.save(update_fields=list(FIELDS))
    return locked
