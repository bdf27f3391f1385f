"""Running one build on a worker: claim it, prepare the context, run the builder, publish, clean up.

The worker's own thread runs every command (procs.run_command) and, twice a second, the job's
check: flush the log, store progress, beat the heartbeat, look for a cancel and the time limit.
"""

from __future__ import annotations

import logging
import shlex
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from builds.builders import PUSHING, BuildSpec, builder_choose
from builds.credentials import (
    auth_file_write,
    build_credential_issue,
    build_credential_revoke,
    build_pull_credential_issue,
)
from builds.errors import BuildError, BuildStopped
from builds.models import BuildJob
from builds.procs import run_command
from builds.progress import BUILT, FAILED, PUSHED, Progress
from builds.services.cleanup import command_environment, workdir_remove, workdirs_sweep
from builds.services.jobs import build_files_drop, staging_tag
from builds.services.logs import LogWriter, build_log_archive
from builds.services.publish import build_publish, build_staging_drop
from builds.sources import source_prepare

logger = logging.getLogger(__name__)
Status = BuildJob.Status
STOP_MESSAGES = {
    "cancelled": "cancelled while {phase}",
    "timed out": "stopped: the time limit of {limit} s was reached",
    "abandoned": "stopped: the build was ended elsewhere (reconciler)",
}


class _Run:
    def __init__(self, job: BuildJob, *, echo=None):
        self.job = job
        self.log = LogWriter(job.pk, echo=echo)
        self.progress = Progress(job.platforms)
        self.deadline = time.monotonic() + job.time_limit
        self.commands: list[str] = []
        self._saved_version = 0
        self._last_beat = time.monotonic()
        self._last_progress = 0.0

    def check(self) -> str | None:
        """Heartbeat + progress + cancel + time limit; the reason to stop, or None."""
        self.log.flush()
        now = time.monotonic()
        if now >= self.deadline:
            return "timed out"
        fields = {}
        version = self.progress.version
        if version != self._saved_version and now - self._last_progress >= 1.0:
            fields["progress"] = self.progress.snapshot()
        if fields or now - self._last_beat >= settings.BUILD_HEARTBEAT_SECONDS:
            alive = BuildJob.objects.filter(pk=self.job.pk, status__in=BuildJob.ACTIVE).update(
                heartbeat=timezone.now(), **fields
            )
            self._last_beat = now
            if "progress" in fields:
                self._saved_version, self._last_progress = version, now
            if not alive:
                return "abandoned"
        if BuildJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            return "cancelled"
        return None

    def stop_message(self, reason: str) -> str:
        return STOP_MESSAGES[reason].format(limit=self.job.time_limit, phase=self.job.status)

    def stop_if_asked(self) -> None:
        reason = self.check()
        if reason:
            raise BuildStopped(reason, self.stop_message(reason))

    def run(self, argv: list[str], *, env: dict | None = None, cwd: str | None = None, parser=None) -> None:
        self.stop_if_asked()
        line = shlex.join(argv)
        self.commands.append(line)
        BuildJob.objects.filter(pk=self.job.pk).update(commands=self.commands)
        self.log.line(f"$ {line}")

        def on_line(text: str) -> None:
            self.log.line(text)
            if parser is not None:
                parser.feed(text.rstrip("\r\n"))

        result = run_command(argv, on_line=on_line, check=self.check, env=command_environment(env), cwd=cwd)
        self.log.flush()
        if result.stopped:
            raise BuildStopped(result.stopped, self.stop_message(result.stopped))
        if result.returncode != 0:
            raise BuildError(f"`{' '.join(argv[:4])} …` failed with exit status {result.returncode} (see the log)")

    def advance(self, status: str) -> None:
        """Move to the next phase unless the job was cancelled or ended elsewhere."""
        moved = BuildJob.objects.filter(pk=self.job.pk, status__in=BuildJob.ACTIVE, cancel_requested=False).update(
            status=status, heartbeat=timezone.now(), progress=self.progress.snapshot()
        )
        if not moved:
            self.stop_if_asked()
            raise BuildStopped("abandoned", STOP_MESSAGES["abandoned"])
        self.job.status = status


def build_run(*, job_id: int, worker: str = "", echo=None) -> BuildJob | None:
    """Claim a queued build and run it to the end. A build that is not queued is left alone: None."""
    now = timezone.now()
    claimed = BuildJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.PREPARING, started=now, heartbeat=now, attempts=F("attempts") + 1, worker=worker[:255]
    )
    if not claimed:
        return None
    job = BuildJob.objects.select_related("repository", "requested_by").get(pk=job_id)
    run = _Run(job, echo=echo)
    work_root = Path(settings.BUILD_WORK_DIR)
    work_root.mkdir(parents=True, exist_ok=True)
    workdirs_sweep(root=work_root)
    workdir = Path(tempfile.mkdtemp(prefix=f"build-{job.pk}-", dir=work_root))
    staging = staging_tag(job.pk)
    outcome, error = Status.FAILED, ""
    builder = spec = credential = pull_credential = None
    try:
        run.log.line(f"build #{job.pk} on {worker or 'this host'}: {job.target} for {', '.join(job.platforms)}")
        source = source_prepare(job=job, workdir=workdir, run=run.run, log=run.log.line)
        if source.commit:
            job.source_commit = source.commit
            BuildJob.objects.filter(pk=job.pk).update(source_commit=source.commit)
        builder = builder_choose(job.requested_builder)
        BuildJob.objects.filter(pk=job.pk).update(builder=builder.name)
        run.log.line(f"builder: {builder.name}")
        credential = build_credential_issue(job=job)
        pull_credential = build_pull_credential_issue(job=job)
        spec = _spec(job, source, workdir, staging)
        auth_file_write(spec.auth_file, registry_host=settings.BUILD_REGISTRY_HOST, credential=credential)
        auth_file_write(spec.pull_auth_file, registry_host=settings.BUILD_REGISTRY_HOST, credential=pull_credential)
        run.advance(Status.BUILDING)
        for command in builder.commands(spec, run.progress):
            if command.phase == PUSHING and job.status != Status.PUSHING:
                run.advance(Status.PUSHING)
            if command.on_start:
                command.on_start()
            run.run(command.argv, env=command.env, parser=command.parser)
            if command.on_success:
                command.on_success()
        if job.status != Status.PUSHING:
            run.advance(Status.PUSHING)
        run.stop_if_asked()
        published = build_publish(
            job=job, staging=staging, progress=run.progress.snapshot(), reported_digest=builder.reported_digest(spec)
        )
        outcome = Status.SUCCEEDED
        for check in published.checks:
            run.log.line(f"checked {check}")
        run.log.line(
            f"pushed {settings.BUILD_REGISTRY_HOST}/{job.image_ref}:{', '.join(job.tags)} as {published.index_digest}"
        )
        for platform, digest in published.platform_digests.items():
            run.log.line(f"  {platform}: {digest}")
    except BuildStopped as stop:
        outcome = Status.CANCELLED if stop.reason == "cancelled" else Status.FAILED
        error = str(stop)
    except BuildError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - the job must end, whatever went wrong
        logger.exception("build %s crashed", job.pk)
        error = f"internal error: {exc.__class__.__name__}: {exc}"
    finally:
        _clean_up(
            run,
            job,
            builder,
            spec,
            [credential, pull_credential],
            workdir,
            staging,
            succeeded=outcome == Status.SUCCEEDED,
        )
    if outcome != Status.SUCCEEDED:
        run.log.line(f"build {outcome}: {error}")
        _finish(run, job, outcome, error)
    run.log.flush()
    build_log_archive(job=job)
    job.refresh_from_db()
    return job


def _spec(job: BuildJob, source, workdir: Path, staging: str) -> BuildSpec:
    labels = {}
    if job.source_type == BuildJob.Source.GIT:
        labels = {"org.opencontainers.image.source": job.git_url, "org.opencontainers.image.revision": source.commit}
    return BuildSpec(
        build_id=job.pk,
        context=source.context,
        dockerfile=source.dockerfile,
        platforms=job.platforms,
        destination=f"{settings.BUILD_REGISTRY_HOST}/{job.image_ref}:{staging}",
        workdir=workdir,
        build_args=job.build_args,
        target=job.target_stage,
        labels=labels,
        network=settings.BUILD_NETWORK,
        insecure=settings.BUILD_REGISTRY_INSECURE,
    )


def _clean_up(
    run: _Run, job, builder, spec, credentials: list, workdir: Path, staging: str, *, succeeded: bool
) -> None:
    """Whatever happened: no staging tag, no credential, no files left behind."""
    steps: list[Callable[[], object]] = []
    if builder is not None and spec is not None:
        for argv in builder.cleanup(spec):
            steps.append(
                partial(run_command, argv, on_line=lambda _: None, check=lambda: None, env=command_environment(None))
            )
    if not succeeded:
        steps.append(lambda: build_staging_drop(job=job, staging=staging))
    steps += [partial(build_credential_revoke, credential=credential) for credential in credentials]
    steps += [
        lambda: workdir_remove(workdir),
        lambda: build_files_drop(job=job),
    ]
    for step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - one failed clean-up step must not skip the others
            logger.exception("build %s: clean-up step failed", job.pk)


def _finish(run: _Run, job: BuildJob, status: str, error: str) -> None:
    progress = run.progress.snapshot()
    for entry in progress.values():
        if entry["state"] not in (BUILT, PUSHED):
            entry["state"] = FAILED if status == Status.FAILED else status
    BuildJob.objects.filter(pk=job.pk, status__in=BuildJob.ACTIVE).update(
        status=status, error=error[:10000], finished=timezone.now(), progress=progress
    )
