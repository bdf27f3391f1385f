"""`python -m config.stack` (what `make run` ends with): web, worker and beat start, and Ctrl-C stops all."""

import os
import signal
import subprocess
import sys

import pytest

from tests.support.processes import alive, live_descendants
from tests.support.servers import PROJECT_ROOT, free_port
from tests.support.waiting import wait_until, wait_until_answers

pytestmark = pytest.mark.e2e


def test_stack_serves_and_stops_on_ctrl_c(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    port = free_port()
    env.update(DATA_DIR=str(tmp_path), PORT=str(port), ADMIN_PASSWORD="stack-test-password", ACCESS_LOG="")
    python = sys.executable
    for command in (["manage.py", "migrate", "--noinput"], ["manage.py", "bootstrap"]):
        subprocess.run([python, *command], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=300)
    log = open(tmp_path / "stack.log", "wb")
    stack = subprocess.Popen(
        [python, "-m", "config.stack"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/v2/", what="the stack", process=stack, log=tmp_path / "stack.log")
        commands = wait_until(
            lambda: (
                (found := live_descendants(stack.pid))
                and any("gunicorn" in c for c in found.values())
                and any("celery" in c and "worker" in c for c in found.values())
                and any("celery" in c and "beat" in c for c in found.values())
                and found
            ),
            what="gunicorn, the celery worker and beat",
        )
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=40)
        wait_until(lambda: not [pid for pid in commands if alive(pid)], what="every process of the stack to end")
    finally:
        if stack.poll() is None:
            stack.kill()
