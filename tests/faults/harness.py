"""The whole stack (`python -m config.stack`, as `make run` starts it) in a temporary data directory, and
the handles fault tests need: the processes by role, a pushed two-arch image, promotions followed to
their end."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.network import OnLocalPort
from tests.support.processes import proc_table
from tests.support.servers import PROJECT_ROOT, _create_database, _drop_database, free_port
from tests.support.waiting import wait_until

PYTHON = sys.executable
FINISHED = ("succeeded", "failed")


@dataclass
class Stack(OnLocalPort):
    data_dir: Path
    env: dict
    port: int
    admin_password: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def log(self) -> str:
        assert self.log_path is not None, "the stack is not started"
        return self.log_path.read_text(errors="replace")

    def roles(self) -> dict[str, list[int]]:
        """Live processes of the stack by role: web, web-worker, front, worker, pool, beat."""
        table = proc_table()
        roles: dict[str, list[int]] = {"web": [], "web-worker": [], "front": [], "worker": [], "pool": [], "beat": []}
        assert self.process is not None, "the stack is not started"
        for pid, (parent, state, cmdline) in table.items():
            if parent != self.process.pid or state == "Z":
                continue
            if "gunicorn" in cmdline:
                roles["web"].append(pid)
                roles["web-worker"] += [p for p, (pp, st, _) in table.items() if pp == pid and st != "Z"]
            elif "config.front" in cmdline:
                roles["front"].append(pid)
            elif "celery" in cmdline and " worker" in cmdline:
                roles["worker"].append(pid)
                roles["pool"] += [p for p, (pp, st, _) in table.items() if pp == pid and st != "Z"]
            elif "celery" in cmdline and " beat" in cmdline:
                roles["beat"].append(pid)
        return roles

    def wait_for(self, predicate, what: str, timeout: float = 90.0):
        try:
            return wait_until(predicate, what=what, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; stack log:\n{self.log()[-4000:]}") from None

    def web_up(self) -> bool:
        try:
            return requests.get(f"{self.url}/v2/", timeout=5).status_code in (200, 401)
        except requests.RequestException:
            return False

    def worker_ready(self) -> bool:
        heartbeat = self.data_dir / "run" / "worker.json"
        roles = self.roles()
        try:
            return bool(roles["worker"]) and json.loads(heartbeat.read_text())["pid"] == roles["worker"][0]
        except (OSError, ValueError, KeyError):
            return False

    def wait_ready(self, timeout: float = 120.0) -> dict[str, list[int]]:
        def ready():
            roles = self.roles()
            slots = int(self.env.get("WORKER_CONCURRENCY", "2"))
            pool_ok = self.env.get("WORKER_POOL", "threads") != "prefork" or len(roles["pool"]) >= slots
            front_ok = self.env.get("FRONT") == "0" or roles["front"]
            return (
                self.web_up()
                and roles["web-worker"]
                and roles["beat"]
                and pool_ok
                and front_ok
                and self.worker_ready()
                and roles
            )

        return self.wait_for(ready, "the whole stack to be up", timeout)

    def push_image(self, name: str = "faults", tag: str = "latest") -> None:
        from tests.support.clients import skopeo_push_layout
        from tests.support.content import AMD64, ARM64, multiarch_image

        layout = self.data_dir / f"layout-{name}"
        multiarch_image(name, platforms=(AMD64, ARM64)).write_layout(layout, tag=tag)
        skopeo_push_layout(self, layout, tag, f"docker-local/{name}:{tag}")

    def promote(self, target_tag: str, *, image: str = "faults") -> str:
        """Ask for a copy promotion; returns the job's URL."""
        response = self.session.post(
            f"{self.url}/api/promotions/",
            auth=("admin", self.admin_password),
            json={
                "source_repository": "docker-local",
                "image": image,
                "target_repository": "docker-target",
                "source_tag": "latest",
                "target_tag": target_tag,
                "copy": True,
            },
            timeout=60,
        )
        assert response.status_code in (201, 202), response.text
        return self.url + response.json()["url"]

    def job(self, url: str) -> dict:
        return self.session.get(url, auth=("admin", self.admin_password), timeout=30).json()

    def follow(self, url: str, timeout: float = 120.0) -> dict:
        return self.wait_for(lambda: (job := self.job(url))["status"] in FINISHED and job, f"job {url}", timeout)

    def target_tag_exists(self, tag: str, image: str = "faults") -> bool:
        response = self.session.get(
            f"{self.url}/v2/docker-target/{image}/manifests/{tag}",
            auth=("admin", self.admin_password),
            headers={"Accept": "application/vnd.oci.image.index.v1+json"},
            timeout=30,
        )
        return response.status_code == 200

    def kill(self, pid: int, sig: int = signal.SIGKILL) -> None:
        os.kill(pid, sig)


@contextmanager
def running_stack(tmp_path: Path, *, extra_env: dict | None = None, database_url: str | None = None):
    """Migrated, seeded and running under the stack runner; stopped with SIGINT at the end."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL") and not k.startswith("S3_")
    }
    password = secrets.token_urlsafe(12)
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(port),
        ADMIN_PASSWORD=password,
        ACCESS_LOG="",
        WORKER_PING_SECONDS="1",
        WORKER_STALL_SECONDS="10",
        PROMOTION_STALE_SECONDS="3",
        PROMOTION_RECONCILE_SECONDS="1",
        PROMOTION_WAIT_SECONDS="0",
        CELERY_QUEUE=f"faults-{uuid.uuid4().hex[:8]}",
    )
    env.update(extra_env or {})
    created_db = None
    base_db = os.environ.get("DATABASE_URL", "")
    if database_url:
        env["DATABASE_URL"] = database_url
    elif base_db.startswith("postgres"):
        env["DATABASE_URL"], created_db = _create_database(base_db)
    stack = Stack(data_dir=data_dir, env=env, port=port, admin_password=password)
    try:
        for command in (["migrate", "--noinput"], ["bootstrap"]):
            subprocess.run(
                [PYTHON, "manage.py", *command], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=300
            )
        stack.log_path = data_dir / "stack.log"
        stack.process = subprocess.Popen(
            [PYTHON, "-m", "config.stack"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=open(stack.log_path, "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        yield stack
    finally:
        if stack.process is not None and stack.process.poll() is None:
            stack.process.send_signal(signal.SIGINT)
            try:
                stack.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(stack.process.pid, signal.SIGKILL)
        _kill_leftovers(str(data_dir))  # nothing started for this stack may outlive it
        if created_db:
            _drop_database(base_db, created_db)


def _kill_leftovers(marker: str) -> None:
    for pid in proc_table():
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                ours = marker.encode() in handle.read()
            if ours:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
