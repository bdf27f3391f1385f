"""Run the whole stack in the foreground: web server, Celery worker and Celery beat.

Ctrl-C (or SIGTERM) stops all three; if one exits, the others are stopped too.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _commands(data_dir: str) -> dict[str, list[str]]:
    return {
        "web": [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application"],
        "worker": [
            str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO",
            "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "--hostname", "worker@%h",
        ],
        "beat": [
            str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", os.path.join(data_dir, "celerybeat-schedule"),
        ],
    }


def main() -> int:
    data_dir = os.environ.get("DATA_DIR", "var")
    processes = {
        name: subprocess.Popen(command, start_new_session=True)
        for name, command in _commands(data_dir).items()
    }
    print(f"serving on http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}/", flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the stack", flush=True)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()  # each main process stops its own children gracefully
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
