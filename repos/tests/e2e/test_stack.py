"""`python -m config.stack` (what `make run` ends with): web, worker and beat start, and Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from repos.tests.e2e.server import PROJECT_ROOT, free_port

pytestmark = pytest.mark.e2e


def _children(pid: int) -> set[int]:
    found, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and int(entry) not in found:
                found.add(int(entry))
                frontier.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/v2/", timeout=2).status_code in (200, 401):
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail((tmp_path / "stack.log").read_text()[-3000:])
        time.sleep(3)  # let the worker and beat finish booting
        commands = {pid: open(f"/proc/{pid}/cmdline").read() for pid in _children(stack.pid) if _alive(pid)}
        assert any("gunicorn" in c for c in commands.values())
        assert any("celery" in c and "worker" in c for c in commands.values())
        assert any("celery" in c and "beat" in c for c in commands.values())
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=40)
        time.sleep(1)
        assert [pid for pid in commands if _alive(pid)] == []
    finally:
        if stack.poll() is None:
            stack.kill()
