"""Asking for a build, cancelling it, and handing it to a worker.

The job row is the truth; the broker message only says "run build N" and is sent after the row is
committed. Every status change is a conditional UPDATE, so cancel, the worker and the reconciler
can race without a build running twice or ending twice.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.permissions import WRITE, acting_token, is_site_admin, token_allows, user_can
from builds.archives import archive_scan
from builds.builders import BUILDER_NAMES
from builds.errors import ArchiveRefused, BuildConflict, BuildDenied, BuildInvalid
from builds.models import BuildJob
from builds.policy import (
    build_args_check,
    git_ref_check,
    git_url_check,
    platforms_check,
    relative_path_check,
    target_stage_check,
)
from builds.services.logs import LogWriter, build_log_archive
from repos.models import Repository
from repos.oci import names
from repos.selectors.repositories import repository_readable_find

Status = BuildJob.Status
STAGING_PREFIX = "tmp-build-"
MAX_TAGS = 20
COPY_CHUNK = 1024 * 1024


@dataclass
class BuildRequest:
    repository: str
    image: str
    tags: list[str] = field(default_factory=lambda: ["latest"])
    platforms: list[str] = field(default_factory=list)
    git_url: str = ""
    git_ref: str = ""
    context_dir: str = ""
    dockerfile: str = "Dockerfile"
    build_args: dict = field(default_factory=dict)
    target: str = ""
    builder: str = ""
    time_limit: int | None = None


def staging_tag(job_id: int) -> str:
    """The tag the builder pushes to; the final tags are set from it in one transaction."""
    return f"{STAGING_PREFIX}{job_id}"


def _repository_for(user, key: str) -> Repository:
    repository = repository_readable_find(user=user, key=(key or "").strip())
    # An unreadable repository gets the same answer as an unknown one: no existence oracle.
    if repository is None:
        raise BuildInvalid("repository", f"unknown repository {key!r}")
    if not user_can(user, repository, WRITE):
        raise BuildDenied(f"you may not push to repository {repository.key}")
    return repository


def _tags_check(tags: list[str]) -> list[str]:
    tags = list(dict.fromkeys(t.strip() for t in tags or [] if t and t.strip())) or ["latest"]
    if len(tags) > MAX_TAGS:
        raise BuildInvalid("tags", f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not names.is_valid_tag(tag):
            raise BuildInvalid("tags", f"invalid tag {tag[:80]!r}")
        if tag.startswith(STAGING_PREFIX):
            raise BuildInvalid("tags", f"tags starting with {STAGING_PREFIX!r} are reserved for builds in progress")
    return tags


def _time_limit(requested: int | None) -> int:
    ceiling = settings.BUILD_TIME_LIMIT_SECONDS
    if requested in (None, ""):
        return ceiling
    try:
        value = int(requested)
    except (TypeError, ValueError):
        raise BuildInvalid("time_limit", "a number of seconds") from None
    if value < 1:
        raise BuildInvalid("time_limit", "at least 1 second")
    return min(value, ceiling)


def _archive_store(archive) -> tuple[str, int]:
    """Stream the upload into BUILD_CONTEXT_DIR, refusing it past the size limit."""
    directory = Path(settings.BUILD_CONTEXT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.context"
    limit = settings.BUILD_CONTEXT_MAX_BYTES
    size = 0
    chunks = archive.chunks(COPY_CHUNK) if hasattr(archive, "chunks") else iter(lambda: archive.read(COPY_CHUNK), b"")
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ArchiveRefused(f"the archive is larger than the limit of {limit} bytes")
                out.write(chunk)
        archive_scan(path, max_bytes=limit, max_entries=settings.BUILD_CONTEXT_MAX_ENTRIES)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return str(path), size


def build_create(*, user, request: BuildRequest, archive=None, enqueue: bool = True) -> BuildJob:
    """Check the request, keep the archive, record the job and queue it (after commit)."""
    if user is None or not user.is_authenticated:
        raise BuildDenied("sign in to start a build")
    repository = _repository_for(user, request.repository)
    image = (request.image or "").strip()
    if not names.is_valid_name(image) or not names.is_valid_name(f"{repository.key}/{image}"):
        raise BuildInvalid("image", f"invalid image name {image[:80]!r} (lower-case, e.g. team/app)")
    tags = _tags_check(request.tags)
    platforms = platforms_check(request.platforms)
    if request.builder and request.builder not in BUILDER_NAMES:
        raise BuildInvalid("builder", f"choose one of {', '.join(BUILDER_NAMES)} (or leave it empty)")
    fields = dict(
        requested_by=user,
        requested_by_name=user.get_username(),
        token_id=getattr(acting_token(user), "pk", None),
        repository=repository,
        repository_key=repository.key,
        image_name=image,
        tags=tags,
        platforms=platforms,
        context_dir=relative_path_check("context_dir", request.context_dir),
        dockerfile=relative_path_check("dockerfile", request.dockerfile, default="Dockerfile"),
        build_args=build_args_check(request.build_args, platforms),
        target_stage=target_stage_check(request.target),
        requested_builder=request.builder or "",
        time_limit=_time_limit(request.time_limit),
    )
    if bool(request.git_url) == bool(archive):
        raise BuildInvalid("context", "give either a Git URL or a context archive (not both)")
    if request.git_url:
        checked = git_url_check(request.git_url)
        fields.update(source_type=BuildJob.Source.GIT, git_url=checked.url, git_ref=git_ref_check(request.git_ref))
    else:
        path, size = _archive_store(archive)
        name = os.path.basename(getattr(archive, "name", "") or "context")[:255]
        fields.update(source_type=BuildJob.Source.ARCHIVE, archive_path=path, archive_size=size, archive_name=name)
    try:
        with transaction.atomic():
            job = BuildJob.objects.create(enqueued=timezone.now() if enqueue else None, **fields)
            if enqueue:
                build_enqueue(job_id=job.pk)
    except BaseException:
        if fields.get("archive_path"):
            Path(fields["archive_path"]).unlink(missing_ok=True)
        raise
    return job


def build_enqueue(*, job_id: int) -> None:
    """Send "run build N" once the current transaction commits."""
    from builds.tasks import run_build

    options = {"queue": settings.BUILD_QUEUE} if settings.BUILD_QUEUE else {}
    # robust: a broker that is down is logged, not raised; the reconciler sends the queued build again.
    transaction.on_commit(lambda: run_build.apply_async(kwargs={"build_id": job_id}, **options), robust=True)


def build_can_cancel(user, job: BuildJob) -> bool:
    """The requester (within their token's write scope, if they act through one), a site admin, or
    anyone who may write to the build's repository."""
    if user is None or not user.is_authenticated:
        return False
    if is_site_admin(user):
        return True
    if job.requested_by_id == user.pk and token_allows(user, job.repository, WRITE):
        return True
    return job.repository is not None and user_can(user, job.repository, WRITE)


def build_cancel(*, job: BuildJob, user) -> BuildJob:
    """A queued build ends at once; a running one is told to stop (its worker kills the process tree)."""
    if not build_can_cancel(user, job):
        raise BuildDenied("you may not cancel this build")
    now = timezone.now()
    who = user.get_username()
    if BuildJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, cancel_requested=True, finished=now, error=f"cancelled by {who} before it started"
    ):
        writer = LogWriter(job.pk)
        writer.line(f"cancelled by {who} before it started")
        writer.flush()
        job.refresh_from_db()
        build_files_drop(job=job)
        build_log_archive(job=job)
        return job
    if BuildJob.objects.filter(pk=job.pk, status__in=BuildJob.ACTIVE).update(cancel_requested=True):
        writer = LogWriter(job.pk)
        writer.line(f"cancel requested by {who}")
        writer.flush()
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    raise BuildConflict(f"build #{job.pk} has already ended ({job.status})", detail={"status": job.status})


def build_files_drop(*, job: BuildJob) -> None:
    """The uploaded archive is only needed until the build ends."""
    if job.archive_path:
        Path(job.archive_path).unlink(missing_ok=True)
