"""Helpers for the build e2e tests: a Git server on 127.0.0.1, contexts, a never-ending RUN step."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import requests

from conftest import require_tool
from tests.support.network import free_port
from tests.support.waiting import wait_until

TERMINAL = {"succeeded", "failed", "cancelled"}
DOCKERFILE = 'FROM scratch\nCOPY hello.txt /\nCOPY hello.txt /again.txt\nCMD ["/hello"]\n'
# A RUN step that never ends by itself: a static x86-64 program that loops on pause(2).
PAUSE_DOCKERFILE = 'FROM scratch\nCOPY hello.txt /\nCOPY pause /pause\nRUN ["/pause"]\n'


def pause_binary() -> bytes:
    """A 129-byte static ELF for x86-64: `loop: mov eax, 34 (pause); syscall; jmp loop`."""
    code = bytes.fromhex("b8220000000f05ebf7")
    base, header, program = 0x400000, 64, 56
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    elf = ident + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, base + header + program, header, 0, 0, header, program, 1, 0, 0, 0
    )
    size = header + program + len(code)
    return elf + struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000) + code


def context_files(content: str, *, dockerfile: str = DOCKERFILE) -> dict[str, bytes]:
    files = {"Dockerfile": dockerfile.encode(), "hello.txt": content.encode()}
    if "/pause" in dockerfile:
        files["pause"] = pause_binary()
    return files


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class GitServer:
    url: str
    commits: dict[str, str]  # name -> sha
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_git_server(root: Path) -> GitServer:
    """A repository with an app/ sub-directory, two commits, a tag v1.0 on the first; served by git daemon."""
    require_tool("git")
    work = root / "work"
    work.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch", "main", cwd=work)
    for name, data in context_files("from git v1\n").items():
        (work / "app").mkdir(exist_ok=True)
        (work / "app" / name).write_bytes(data)
    (work / "README").write_text("test repository\n")
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "v1", cwd=work)
    git("tag", "-a", "v1.0", "-m", "release 1.0", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    (work / "app" / "hello.txt").write_text("from git v2\n")
    git("commit", "--quiet", "-am", "v2", cwd=work)
    second = git("rev-parse", "HEAD", cwd=work)
    served = root / "served"
    served.mkdir()
    git("clone", "--quiet", "--bare", str(work), str(served / "app.git"), cwd=root)
    process, base = serve_git(served, log_path=root / "git-daemon.log")
    return GitServer(url=f"{base}/app.git", commits={"v1.0": first, "main": second}, process=process)


def serve_git(served: Path, *, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`git daemon` for the bare repositories in `served`; returns it and its base URL once it answers."""
    port = free_port()
    log = open(log_path, "ab")
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--informative-errors",
            f"--base-path={served}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(served),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"git://127.0.0.1:{port}"
    try:
        wait_until(lambda: _accepts(port), what="the git daemon", timeout=20)
    except AssertionError:
        process.terminate()
        raise
    return process, base


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(api: requests.Session, server, build_id: int, *, until=None, timeout: float = 180) -> dict:
    """Poll the build until it ends (or `until(job)` holds)."""

    def reached() -> dict | None:
        job = api.get(f"{server.url}/api/builds/{build_id}/").json()
        if until(job) if until else job["status"] in TERMINAL:
            return job
        if job["status"] in TERMINAL:
            raise AssertionError(f"build {build_id} ended up {job['status']}: {job.get('error')}")
        return None

    try:
        return wait_until(reached, what=f"build {build_id}", timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n" + "\n".join(full_log(api, server, build_id)[-40:])) from None


def full_log(api: requests.Session, server, build_id: int, *, timeout: float = 30) -> list[str]:
    """The log so far; for an ended build, the whole log (its last lines may land just after the status)."""
    lines: list[str] = []

    def read_on() -> bool:
        page = api.get(f"{server.url}/api/builds/{build_id}/log", params={"start": len(lines)}).json()
        lines.extend(page["lines"])
        return page["complete"] or page["status"] not in TERMINAL

    try:
        wait_until(read_on, what=f"the end of build {build_id}'s log", timeout=timeout)
    except AssertionError:
        pass  # what has come so far
    return lines
