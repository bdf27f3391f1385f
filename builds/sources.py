"""Build-context preparation: a Git ref cloned, or an uploaded archive extracted, into a private directory."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from builds.archives import archive_extract, tree_check
from builds.errors import BuildError
from builds.models import BuildJob
from builds.policy import CheckedGitUrl, git_url_check

# run(argv, env=..., cwd=...) runs a command with the build's log, cancel and time limit; raises on failure.
RunCommand = Callable[..., None]
HEX_REF = re.compile(r"[0-9a-f]{7,40}")


@dataclass
class PreparedSource:
    root: Path  # the whole checkout or extracted tree
    context: Path
    dockerfile: Path
    commit: str = ""


def git_environment(workdir: Path) -> dict[str, str]:
    """No system or user git config, no prompts, only the allowed transports (submodules included)."""
    home = workdir / "git-home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "GIT_ALLOW_PROTOCOL": "http:https:git",
        "GIT_LFS_SKIP_SMUDGE": "1",
    }


def git_fetch_config(checked: CheckedGitUrl) -> list[str]:
    config = ["-c", "http.followRedirects=false", "-c", "protocol.version=2", "-c", "advice.detachedHead=false"]
    if checked.scheme in ("http", "https"):
        addresses = ",".join(f"[{a}]" if ":" in a else a for a in checked.addresses)
        # Connect to the addresses the policy checked, whatever DNS says by now.
        config += ["-c", f"http.curloptResolve={checked.host}:{checked.port}:{addresses}"]
    return config


def git_checkout(*, url: str, ref: str, dest: Path, workdir: Path, run: RunCommand) -> str:
    """Fetch `ref` (branch, tag or commit; default HEAD) shallowly and check it out; returns the commit."""
    checked = git_url_check(url)
    env = git_environment(workdir)
    config = git_fetch_config(checked)
    dest.mkdir(parents=True, exist_ok=True)
    run(["git", "init", "--quiet", str(dest)], env=env)
    git = ["git", "-C", str(dest), *config]
    wanted = ref or "HEAD"
    try:
        run([*git, "fetch", "--depth", "1", "--no-tags", "--end-of-options", checked.url, wanted], env=env)
        target = "FETCH_HEAD"
    except BuildError:
        if not HEX_REF.fullmatch(ref):
            raise BuildError(f"could not fetch {wanted!r} from {checked.url} (see the log)") from None
        # An abbreviated commit cannot be fetched by name: fetch the history and look it up.
        run(
            [*git, "fetch", "--no-tags", "--end-of-options", checked.url, "+refs/heads/*:refs/remotes/origin/*"],
            env=env,
        )
        target = ref
    run([*git, "checkout", "--quiet", "--detach", target, "--"], env=env)
    head = (dest / ".git" / "HEAD").read_text().strip()
    shutil.rmtree(dest / ".git", ignore_errors=True)
    if not re.fullmatch(r"[0-9a-f]{40,64}", head):
        raise BuildError(f"unexpected checkout state: {head[:80]}")
    return head


def _inside(root: Path, path: Path) -> bool:
    root_real, real = os.path.realpath(root), os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def source_prepare(*, job: BuildJob, workdir: Path, run: RunCommand, log: Callable[[str], None]) -> PreparedSource:
    src = workdir / "src"
    commit = ""
    if job.source_type == BuildJob.Source.GIT:
        log(f"fetching {job.git_url} {job.git_ref or 'HEAD'}")
        commit = git_checkout(url=job.git_url, ref=job.git_ref, dest=src, workdir=workdir, run=run)
        log(f"checked out commit {commit}")
    else:
        if not job.archive_path or not os.path.exists(job.archive_path):
            raise BuildError("the uploaded context archive is gone")
        src.mkdir(parents=True, exist_ok=True)
        summary = archive_extract(
            job.archive_path,
            src,
            max_bytes=settings.BUILD_CONTEXT_MAX_BYTES,
            max_entries=settings.BUILD_CONTEXT_MAX_ENTRIES,
        )
        log(
            f"extracted {job.archive_name or 'archive'} ({summary.format}): {summary.entries} entries, "
            f"{summary.total_bytes} bytes"
        )
    size = tree_check(src, max_bytes=settings.BUILD_CONTEXT_MAX_BYTES)
    context = src / job.context_dir if job.context_dir else src
    if not _inside(src, context) or not context.is_dir():
        raise BuildError(f"context directory {job.context_dir!r} does not exist in the source")
    dockerfile = context / job.dockerfile
    if not _inside(src, dockerfile) or not dockerfile.is_file():
        raise BuildError(f"Dockerfile {job.dockerfile!r} not found in the context")
    log(f"context {job.context_dir or '.'} ({size} bytes), Dockerfile {job.dockerfile}")
    return PreparedSource(root=src, context=context, dockerfile=dockerfile, commit=commit)
