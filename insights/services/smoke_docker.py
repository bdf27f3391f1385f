"""Smoke tests in the worker's Docker engine: pull a platform image from this registry by digest, run the
test's command in it under the image's own architecture, remove what was pulled.

`docker run --platform os/arch[/variant]` executes foreign binaries through the kernel's binfmt_misc
handlers (qemu-user-static), so an arm64 image really runs its arm64 program on an amd64 worker. The
container gets no network, a read-only root, no capabilities, bounded memory and processes, and never
pulls by itself (`--pull never`): what runs is exactly the digest that was pulled. The worker pulls with a short-lived read-only API token of the user
the run is for (the pusher, promoter or whoever asked to run it again), valid for the run's repository only
and revoked at the end.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.errors import AccountsError
from accounts.permissions import READ
from accounts.services.tokens import token_create
from builds.credentials import RegistryCredential, auth_file_write, build_credential_revoke
from insights.models import SmokeTestRun
from insights.services.smoke_process import Outcome, command_run

# docker's own exit code when the daemon could not create or start the container.
DOCKER_RUN_ERROR = 125


class DockerRunner:
    """Runs each platform of one run; `session` holds the pull credential and cleans up after the run."""

    def __init__(self, *, registry_host: str | None = None, docker: str = "docker"):
        self.registry_host = registry_host or settings.SMOKE_TEST_REGISTRY_HOST
        self.docker = docker

    @contextmanager
    def session(self, run: SmokeTestRun, *, platforms: int) -> Iterator[DockerSession]:
        work = Path(tempfile.mkdtemp(prefix=f"smoke-{run.pk}-"))
        credential = _pull_credential(run, platforms=platforms)
        try:
            auth_file_write(work / "config.json", registry_host=self.registry_host, credential=credential)
            yield DockerSession(self, run, env={**os.environ, "DOCKER_CONFIG": str(work)})
        finally:
            build_credential_revoke(credential=credential)
            shutil.rmtree(work, ignore_errors=True)


class DockerSession:
    def __init__(self, runner: DockerRunner, run: SmokeTestRun, *, env: dict):
        self.runner, self.run, self.env = runner, run, env

    def execute(self, *, platform: str, digest: str, definition: dict) -> Outcome:
        docker = self.runner.docker
        if shutil.which(docker) is None:
            return Outcome(
                exit_code=None, output="", duration_ms=0, start_error="docker is not installed on the worker"
            )
        ref = f"{self.runner.registry_host}/{self.run.repository.key}/{self.run.image.name}@{digest}"
        # One run at a time per digest on this engine: a run finishing must not remove an image another runs.
        with _digest_lock(digest):
            already_local = self._docker("image", "inspect", ref).returncode == 0
            try:
                if not already_local:
                    pulled = self._docker(
                        "pull", "--quiet", f"--platform={platform}", ref, timeout=settings.SMOKE_TEST_PULL_SECONDS
                    )
                    if pulled.returncode != 0:
                        return Outcome(
                            exit_code=None,
                            output=pulled.stdout,
                            duration_ms=0,
                            start_error=f"pull failed: {_last(pulled.stdout)}",
                        )
                return self._run(ref, platform=platform, definition=definition)
            finally:
                if not already_local:
                    self._docker("image", "rm", "--force", ref)

    def _run(self, ref: str, *, platform: str, definition: dict) -> Outcome:
        docker = self.runner.docker
        name = f"smoke-{self.run.pk}-{uuid.uuid4().hex[:12]}"
        program, *arguments = definition["command"]
        # `--opt=value` throughout: a value starting with "-" (a program, a platform) stays a value.
        argv = [
            docker,
            "run",
            "--rm",
            f"--name={name}",
            f"--platform={platform}",
            "--network=none",
            "--read-only",
            "--pull=never",
            "--cap-drop=ALL",
            "--security-opt=no-new-privileges",
            f"--pids-limit={settings.SMOKE_TEST_PIDS_LIMIT}",
            f"--memory={settings.SMOKE_TEST_MEMORY}",
            f"--entrypoint={program}",
            ref,
            *arguments,
        ]
        outcome = command_run(
            argv,
            time_limit=definition["time_limit_seconds"],
            env=self.env,
            on_timeout=lambda: self._docker("rm", "--force", name),
        )
        reason = _start_failure(outcome)
        if reason:
            return Outcome(
                exit_code=outcome.exit_code, output=outcome.output, duration_ms=outcome.duration_ms, start_error=reason
            )
        return outcome

    def _docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [self.runner.docker, *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(exc.cmd, 1, stdout=f"timed out after {timeout:.0f} s", stderr="")


def _start_failure(outcome: Outcome) -> str:
    """Why the container never ran the test's program (docker's own errors), or ""."""
    if outcome.timed_out:
        return ""
    text = outcome.output
    if "exec format error" in text:
        return "exec format error: this machine cannot run the platform (no binfmt/QEMU handler for it)"
    if outcome.exit_code == DOCKER_RUN_ERROR or (outcome.exit_code in (126, 127) and "OCI runtime" in text):
        return _last(text) or f"docker run exited {outcome.exit_code}"
    return ""


def _last(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


@contextmanager
def _digest_lock(digest: str) -> Iterator[None]:
    directory = Path(settings.SMOKE_TEST_WORK_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{digest.replace(':', '-')}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pull_credential(run: SmokeTestRun, *, platforms: int) -> RegistryCredential | None:
    """Read-only on the run's repository, for the user the run is for; None (anonymous) for a public
    repository without such a user. Expires after the longest the run may take."""
    requester = run.requested_by_id
    user = get_user_model().objects.filter(pk=requester, is_active=True).first() if requester is not None else None
    if user is None:
        return None
    per_platform = run.definition["time_limit_seconds"] + settings.SMOKE_TEST_PULL_SECONDS
    try:
        token, secret = token_create(
            creator=user,
            name=f"smoke test run #{run.pk} (minted for its pulls)",
            permissions=[READ],
            repositories=[run.repository],
            expires_at=timezone.now() + timedelta(seconds=per_platform * max(platforms, 1) + 600),
            purpose="build",  # machine-minted: kept out of the user's token list, like a build's
        )
    except AccountsError:
        return None  # the user may no longer read the repository: the pull is anonymous (and refused if private)
    return RegistryCredential(username=user.get_username(), secret=secret, token=token)
