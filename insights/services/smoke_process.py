"""Running one smoke test command with a time limit, keeping the end of its output.

The command runs in its own session (process group); at the limit `on_timeout` runs first (the docker
runner removes the container there: killing the `docker run` client alone leaves the container
running), then the whole group is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# The pattern is searched in at most this much of the output (its end); the page shows the last lines.
OUTPUT_KEEP_BYTES = 256 * 1024


@dataclass(frozen=True)
class Outcome:
    """What happened when the command ran on one platform (judged against the test by `smoke_judge`)."""

    exit_code: int | None
    output: str
    duration_ms: int
    timed_out: bool = False
    start_error: str = ""  # the command never ran as the test's program (pull failed, no emulation, ...)


def command_run(
    argv: list[str],
    *,
    time_limit: float,
    env: dict | None = None,
    on_timeout: Callable[[], object] | None = None,
) -> Outcome:
    """Run `argv` (stdout and stderr merged, stdin closed) for at most `time_limit` seconds."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        return Outcome(exit_code=None, output="", duration_ms=0, start_error=f"{argv[0]}: {exc.strerror or exc}")
    kept = bytearray()
    reader = threading.Thread(target=_keep_tail, args=(process.stdout, kept), daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        if on_timeout is not None:
            on_timeout()
        _kill_group(process)
    duration_ms = int((time.monotonic() - started) * 1000)
    reader.join(timeout=10)
    output = bytes(kept).decode("utf-8", errors="replace")
    return Outcome(
        exit_code=None if timed_out else process.returncode,
        output=output,
        duration_ms=duration_ms,
        timed_out=timed_out,
    )


def _keep_tail(stream, kept: bytearray) -> None:
    for chunk in iter(lambda: stream.read1(65536), b""):
        kept.extend(chunk)
        if len(kept) > OUTPUT_KEEP_BYTES:
            del kept[: len(kept) - OUTPUT_KEEP_BYTES]
    stream.close()


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# What is stored per platform: the last lines, and of them at most this many characters (one endless line).
STORED_OUTPUT_CHARS = 16 * 1024


def last_lines(output: str, count: int) -> str:
    return "\n".join(output.rstrip("\n").splitlines()[-count:])[-STORED_OUTPUT_CHARS:]
