"""Registry access decisions. Open access until repository permissions land (issue: who may do what)."""
from __future__ import annotations

from repos.models import Repository


def require_repository_access(request, repository: Repository, actions) -> None:
    return None


def readable_repositories(request):
    return Repository.objects.all()


def require_base(request) -> None:
    return None
