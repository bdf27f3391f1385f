"""Reads for builds: who sees which build, its log from a line index, provenance of an image."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.permissions import READ, WRITE, is_site_admin, readable_repositories, token_scoped_repositories, user_can
from builds.logstore import get_log_store
from builds.models import BuildJob, BuildLog
from repos.models import Repository

MAX_PAGE_LINES = 5000


def builds_visible(user) -> QuerySet[BuildJob]:
    """Builds into repositories the user can read, and the user's own; through an API token, only
    those in repositories its scope lets it read (a token never sees more than it may read)."""
    jobs = BuildJob.objects.select_related("repository")
    if is_site_admin(user):
        return jobs
    condition = Q(repository__in=readable_repositories(user))
    if user is not None and user.is_authenticated:
        own = Q(requested_by=user)
        scoped = token_scoped_repositories(user, READ)
        if scoped is not None:
            own &= Q(repository__in=scoped)
        condition |= own
    return jobs.filter(condition)


def builds_listed(*, user, status: str = "") -> QuerySet[BuildJob]:
    """The visible builds, optionally only those in one status."""
    jobs = builds_visible(user)
    return jobs.filter(status=status) if status else jobs


def build_get_visible(*, user, build_id) -> BuildJob | None:
    try:
        return builds_visible(user).filter(pk=int(build_id)).first()
    except (TypeError, ValueError):
        return None


@dataclass
class LogPage:
    lines: list[str]
    start: int
    next: int
    complete: bool  # the build has ended and every line has been read


def build_log_read(*, job: BuildJob, start: int = 0, limit: int = MAX_PAGE_LINES) -> LogPage:
    """Lines from `start`: the archived log of an ended build, else the live store."""
    start = max(int(start), 0)
    archived = BuildLog.objects.filter(job=job).values_list("text", "line_count").first()
    if archived is not None:
        text, count = archived
        lines = text.split("\n")[start : start + limit] if count else []
        end = start + len(lines)
        return LogPage(lines=lines, start=start, next=end, complete=end >= count)
    lines = get_log_store().read(job.pk, start)[:limit]
    return LogPage(lines=lines, start=start, next=start + len(lines), complete=False)


def build_for_digest(*, repository: Repository, digest: str) -> BuildJob | None:
    """The build that produced this index or per-platform manifest in this repository (provenance)."""
    jobs = BuildJob.objects.filter(repository=repository, status=BuildJob.Status.SUCCEEDED)
    found = jobs.filter(index_digest=digest).order_by("-finished").first()
    if found is None:
        candidates = jobs.filter(platform_digests__isnull=False).order_by("-finished")[:500]
        found = next((job for job in candidates if digest in (job.platform_digests or {}).values()), None)
    return found


def repositories_writable(user) -> list[Repository]:
    return [r for r in readable_repositories(user) if user_can(user, r, WRITE)]
