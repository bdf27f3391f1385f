"""Wait for a condition, never for a fixed time."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypeVar

import requests

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], *, what: str, timeout: float = 60.0, interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy (returned); fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 1.5, 1.0)


def wait_until_answers(
    url: str,
    *,
    what: str,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
    statuses: Collection[int] | None = (200, 401),
    timeout: float = 60.0,
) -> None:
    """Wait until `url` answers with one of `statuses` (None: any HTTP answer); fail at once if `process`, the
    server behind it, exits meanwhile (with the end of its `log`)."""

    def answers() -> bool:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"{what} exited with {process.returncode}:\n{tail}")
        try:
            status = requests.get(url, timeout=2).status_code
        except requests.RequestException:
            return False
        return statuses is None or status in statuses

    wait_until(answers, what=f"{what} to answer on {url}", timeout=timeout)
