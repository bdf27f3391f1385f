"""The CNCF reference registry (`docker-registry`, Debian package) on a free local port, for
interoperability tests, remote-repository tests (as the upstream) and the benchmark. No auth, or
htpasswd (Basic) auth; optionally an access log (to count upstream requests); a throw-away root."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.network import OnLocalPort, free_port
from tests.support.waiting import wait_until_answers

CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: {no_access_log}
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
{auth}"""
HTPASSWD_AUTH = """auth:
  htpasswd:
    realm: upstream
    path: {path}
"""


@dataclass
class ReferenceRegistry(OnLocalPort):
    port: int
    root: Path
    process: subprocess.Popen
    work_dir: Path | None = None

    def access_log(self) -> str:
        return (self.work_dir / "registry.log").read_text(errors="replace") if self.work_dir else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def reference_registry(
    work_dir: Path, *, binary: str | None = None, htpasswd: Path | None = None, access_log: bool = False
):
    binary = binary or shutil.which("docker-registry")
    if binary is None:
        raise FileNotFoundError("docker-registry is not installed")
    work_dir.mkdir(parents=True, exist_ok=True)
    root = work_dir / "storage"
    port = free_port()
    config = work_dir / "config.yml"
    auth = HTPASSWD_AUTH.format(path=htpasswd) if htpasswd else ""
    config.write_text(CONFIG.format(root=root, port=port, auth=auth, no_access_log=str(not access_log).lower()))
    log = open(work_dir / "registry.log", "ab")
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    registry = ReferenceRegistry(port=port, root=root, process=process, work_dir=work_dir)
    try:
        _wait_until_up(registry, work_dir)
        yield registry
    finally:
        registry.stop()
        log.close()


def _wait_until_up(registry: ReferenceRegistry, work_dir: Path) -> None:
    wait_until_answers(
        f"{registry.url}/v2/",
        what="docker-registry",
        process=registry.process,
        log=work_dir / "registry.log",
        timeout=30,
    )
