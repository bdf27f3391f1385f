"""Start the project's production server (gunicorn) on a free port with its own data and database."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.network import OnLocalPort, free_port
from tests.support.waiting import wait_until_answers

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class RunningServer(OnLocalPort):
    port: int
    data_dir: Path
    env: dict
    admin_password: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    extra: dict = field(default_factory=dict)
    workers: list = field(default_factory=list)

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        return result.stdout

    def start(self) -> None:
        self.log_path = self.data_dir / "server.log"
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_answers(f"{self.url}/v2/", what="the server", process=self.process, log=self.log_path)

    def start_worker(self) -> subprocess.Popen:
        """A real Celery worker on the server's broker (Redis when REDIS_URL is set)."""
        hostname = f"test-{uuid.uuid4().hex[:6]}@%h"
        return self._start_celery("worker", "--concurrency", "2", "--hostname", hostname)

    def start_beat(self) -> subprocess.Popen:
        """Celery beat on the server's broker (the reconcilers' schedule); stopped with the server."""
        return self._start_celery("beat", "--schedule", str(self.data_dir / f"beat-{uuid.uuid4().hex[:6]}"))

    def _start_celery(self, role: str, *options: str) -> subprocess.Popen:
        """`celery worker` or `celery beat` with the server's environment, logging to `<role>.log`; stopped with
        the server."""
        log = open(self.data_dir / f"{role}.log", "ab")
        process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", role, "--loglevel", "INFO", *options],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(process)
        return process

    def stop_worker(self, worker: subprocess.Popen, *, kill: bool = False) -> None:
        if worker.poll() is None:
            os.killpg(worker.pid, 9 if kill else 15)
            worker.wait(timeout=60)

    def stop(self, *, kill: bool = False) -> None:
        for worker in self.workers:
            self.stop_worker(worker, kill=kill)
        self.workers = []
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9 if kill else 15)
            self.process.wait(timeout=30)
        self.process = None


def _create_database(base_url: str) -> tuple[str, str]:
    """A fresh PostgreSQL database for the server; returns (url, name)."""
    import psycopg

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    root, _, _ = base_url.rpartition("/")
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{root}/{name}", name


def _drop_database(base_url: str, name: str) -> None:
    import psycopg

    root, _, _ = base_url.rpartition("/")
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_server(
    tmp_dir: Path, *, extra_env: dict | None = None, web_workers: int = 2, redis: bool = False, sqlite: bool = False
):
    """Migrated, seeded and serving. With `redis`, Celery uses TEST_REDIS_URL (or a local Redis) as broker."""
    data_dir = tmp_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    admin_password = secrets.token_urlsafe(12)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL") and not k.startswith("S3_")
    }
    port = free_port()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATA_DIR=str(data_dir),
        PORT=str(port),
        ADMIN_PASSWORD=admin_password,
        WEB_WORKERS=str(web_workers),
        ACCESS_LOG="",
    )
    if redis:
        env["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        env["CELERY_QUEUE"] = f"test-{uuid.uuid4().hex[:8]}"  # servers in parallel never share jobs
    env.update(extra_env or {})
    database_name = None
    base_db_url = os.environ.get("DATABASE_URL", "")
    if base_db_url.startswith("postgres") and not sqlite:
        env["DATABASE_URL"], database_name = _create_database(base_db_url)
    server = RunningServer(port=port, data_dir=data_dir, env=env, admin_password=admin_password)
    try:
        server.manage("migrate", "--noinput")
        server.manage("bootstrap")
        server.start()
        yield server
    finally:
        server.stop()
        if database_name:
            _drop_database(base_db_url, database_name)
