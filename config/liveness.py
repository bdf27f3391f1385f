"""Worker liveness for the stack runner: a heartbeat file written by the Celery main process, and a
pong written by a ping task that went through the broker and the pool like any job.

Only active when WORKER_LIVENESS_FILE is set (the stack runner sets it for the worker it starts).
The heartbeat carries how many jobs the worker has taken and how many run now, so the runner can
tell a worker that is busy (every slot on a long build) or making progress from one that stopped
taking jobs (a free slot, a ping waiting, nothing accepted).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from celery import bootsteps

HEARTBEAT_SECONDS = 2.0


def liveness_path() -> Path | None:
    value = os.environ.get("WORKER_LIVENESS_FILE", "")
    return Path(value) if value else None


def _write_atomic(path: Path, data: dict) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def pong_path(path: Path) -> Path:
    return path.with_name(path.name + ".pong")


def write_pong(nonce: str) -> None:
    path = liveness_path()
    if path is not None:
        _write_atomic(pong_path(path), {"nonce": nonce, "time": time.time(), "pid": os.getpid()})


class LivenessFile(bootsteps.StartStopStep):
    """Worker bootstep: every HEARTBEAT_SECONDS, the main process records what its pool is doing."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.path = liveness_path()
        self.timer_ref = None

    def start(self, worker):
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.beat(worker)
            self.timer_ref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, self.beat, (worker,), priority=10)

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()

    def beat(self, worker):
        from celery.worker import state

        _write_atomic(
            self.path,
            {
                "pid": os.getpid(),
                "time": time.time(),
                "accepted": state.all_total_count[0],
                "active": len(state.active_requests),
                "concurrency": worker.concurrency,
            },
        )
