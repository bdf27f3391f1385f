"""Running build commands: argument lists, no shell, own process group, lines streamed as they come.

A command runs in a new session (its own process group) and dies with the worker (PDEATHSIG). The
caller's `check()` runs every `interval` seconds on the calling thread (heartbeat, cancel check);
it returns a reason to stop ("cancelled", "timed out") or None. Stopping kills the whole tree:
the process group, plus any descendant that started a session of its own.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass

KILL_GRACE_SECONDS = 3.0
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None


def _child_setup() -> None:
    # Runs in the child between fork and exec: die with the parent (a killed worker leaves no build behind).
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass
class CommandResult:
    returncode: int
    stopped: str | None = None  # why it was killed, if it was


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, found through /proc (children that left the process group included)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def kill_tree(process: subprocess.Popen, *, grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM the process group and every descendant, then SIGKILL whatever is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [process.pid, *descendants(process.pid)]
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if sig == signal.SIGTERM:
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
            if not descendants(process.pid):
                return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def run_command(
    argv: list[str],
    *,
    on_line: Callable[[str], None],
    check: Callable[[], str | None],
    cwd: str | None = None,
    env: dict | None = None,
    interval: float = 0.5,
) -> CommandResult:
    """Run `argv`, feeding each output line (stdout and stderr merged) to `on_line` as it comes."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_child_setup,
        close_fds=True,
    )
    reader = threading.Thread(target=_pump, args=(process.stdout, on_line), daemon=True)
    reader.start()
    stopped = None
    try:
        while True:
            try:
                process.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                pass
            stopped = check()
            if stopped:
                kill_tree(process)
                break
        if stopped is None:
            # Whatever the command left running in its group (a daemonized helper) goes too.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    except BaseException:
        kill_tree(process)
        raise
    finally:
        reader.join(timeout=10)
    return CommandResult(returncode=process.returncode if process.returncode is not None else -9, stopped=stopped)


def _pump(stream, on_line: Callable[[str], None]) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            on_line(raw.decode("utf-8", "replace"))
