"""Run the whole stack in the foreground and keep it running: the front proxy (config/front.py) and the
web server behind it, the Celery worker and Celery beat.

A process that dies is started again after a backoff (1 s, doubling to 30 s while it keeps dying
within a minute of starting); the others keep serving. The worker is also watched for being alive
but stuck: it writes a heartbeat file, and a ping task is sent through the broker every
WORKER_PING_SECONDS. A worker whose ping waits WORKER_STALL_SECONDS while a slot is free and no job
was taken meanwhile (or whose heartbeat stops) is killed and started again. Only Ctrl-C (SIGINT) or
SIGTERM stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from config import paths
from config.liveness import pong_path, read_json

BIN = Path(sys.executable).parent
BACKOFF_FIRST, BACKOFF_MAX, STABLE_AFTER = 1.0, 30.0, 60.0


def log(message: str) -> None:
    print(f"stack: {message}", flush=True)


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, start_new_session=True, env={**os.environ, **self.env})
        self.started = time.monotonic()
        self.restart_at = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def kill(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # the whole group: pool children too
            except ProcessLookupError:
                pass
            self.process.wait()

    def schedule_restart(self, now: float) -> float:
        """Back off while the process keeps dying soon after starting; returns the delay."""
        self.quick_deaths = self.quick_deaths + 1 if now - self.started < STABLE_AFTER else 0
        delay = min(BACKOFF_FIRST * 2**self.quick_deaths, BACKOFF_MAX) if self.quick_deaths else BACKOFF_FIRST
        self.restart_at = now + delay
        return delay


class WorkerWatch:
    """Decides whether the worker stopped taking jobs, from its heartbeat file and ping answers."""

    def __init__(self, liveness_file: Path, *, ping_every: float, stall_after: float):
        self.path, self.ping_every, self.stall_after = liveness_file, ping_every, stall_after
        self.reset()

    def reset(self) -> None:
        self.nonces: set[str] = set()  # pings sent and not answered yet
        self.waiting_since = 0.0
        self.accepted_then = -1
        self.last_ping = 0.0

    def _send_ping(self, now: float) -> None:
        from config.celery_app import app

        self.last_ping = now
        nonce = uuid.uuid4().hex
        try:
            app.send_task("stack.ping", kwargs={"nonce": nonce})
        except Exception as exc:  # noqa: BLE001 - a broker outage is not the worker's fault
            log(f"could not send the worker ping ({type(exc).__name__}: {exc}); trying again later")
            return
        self.nonces.add(nonce)

    def stuck(self, service: Service, now: float) -> str | None:
        """A reason to restart the worker, or None."""
        heartbeat = read_json(self.path)
        if not heartbeat or heartbeat.get("pid") != service.pid:
            if now - service.started > max(self.stall_after, 120.0):
                return "it never wrote its heartbeat"
            return None  # still starting
        if time.time() - heartbeat["time"] > self.stall_after:
            return f"its heartbeat stopped {time.time() - heartbeat['time']:.0f} s ago"
        pong = read_json(pong_path(self.path))
        if pong and pong.get("nonce") in self.nonces:
            self.nonces.clear()
        accepted = heartbeat.get("accepted", 0)
        if not self.nonces:
            if now - self.last_ping >= self.ping_every:
                self.waiting_since, self.accepted_then = now, accepted
                self._send_ping(now)
            return None
        if heartbeat.get("active", 0) >= heartbeat.get("concurrency", 1) or accepted > self.accepted_then:
            # Every slot on a job, or jobs still flow: the ping is only queued behind them.
            self.waiting_since, self.accepted_then = now, accepted
            return None
        if now - self.last_ping >= self.ping_every:
            self._send_ping(now)  # in case a ping was lost with the broker (Redis restarted without persistence)
        if now - self.waiting_since >= self.stall_after:
            return f"a ping waited {now - self.waiting_since:.0f} s with a free slot and no job taken"
        return None


def _services(data_dir: Path) -> list[Service]:
    gunicorn = [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
    if os.environ.get("FRONT", "1") == "0":  # gunicorn faces the clients itself (e.g. behind nginx)
        web = [Service("web", gunicorn)]
    else:  # the asyncio front faces the clients; gunicorn listens on a private unix socket
        socket = f"unix:{data_dir / 'run' / 'web.sock'}"
        web = [
            Service("front", [sys.executable, "-m", "config.front"], env={"FRONT_UPSTREAM": socket}),
            Service("web", gunicorn, env={"WEB_BIND": socket, "WEB_BEHIND_FRONT": "1"}),
        ]
    return [
        *web,
        Service(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                os.environ.get("WORKER_CONCURRENCY", "2"),
                "--hostname",
                "worker@%h",
            ],
            env={"WORKER_LIVENESS_FILE": str(data_dir / "run" / "worker.json")},
        ),
        Service(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
            ],
        ),
    ]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    data_dir = paths.prepare_data_dir()
    services = {service.name: service for service in _services(data_dir)}
    watch = WorkerWatch(
        Path(services["worker"].env["WORKER_LIVENESS_FILE"]),
        ping_every=float(os.environ.get("WORKER_PING_SECONDS", "15")),
        stall_after=float(os.environ.get("WORKER_STALL_SECONDS", "90")),
    )
    for service in services.values():
        service.start()
    log(f"serving on http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}/")
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        now = time.monotonic()
        for service in services.values():
            if service.restart_at is not None:
                if now >= service.restart_at:
                    log(f"starting {service.name} again")
                    service.start()
                    if service.name == "worker":
                        watch.reset()
                continue
            if not service.running():
                delay = service.schedule_restart(now)
                log(f"{service.name} exited with {service.returncode}; restarting in {delay:.0f} s")
            elif service.name == "worker":
                reason = watch.stuck(service, now)
                if reason:
                    log(f"the worker stopped taking jobs ({reason}); killing and restarting it")
                    service.kill()
                    service.schedule_restart(now)
        time.sleep(0.5)
    _stop_all(services.values())
    return 0


def _stop_all(services) -> None:
    running = [service for service in services if service.running()]
    for service in running:
        service.process.terminate()  # each main process stops its own children gracefully
    deadline = time.monotonic() + 15
    for service in running:
        try:
            service.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            service.kill()


if __name__ == "__main__":
    sys.exit(main())
