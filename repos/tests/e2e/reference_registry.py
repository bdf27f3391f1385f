"""The CNCF reference registry (`docker-registry`, Debian package) on a free local port, for
interoperability tests and the benchmark. No auth; a throw-away root directory."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from repos.tests.e2e.server import free_port

CONFIG = """\
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
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
"""


@dataclass
class ReferenceRegistry:
    port: int
    root: Path
    process: subprocess.Popen

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@contextmanager
def reference_registry(work_dir: Path, *, binary: str | None = None):
    binary = binary or shutil.which("docker-registry")
    if binary is None:
        raise FileNotFoundError("docker-registry is not installed")
    work_dir.mkdir(parents=True, exist_ok=True)
    root = work_dir / "storage"
    port = free_port()
    config = work_dir / "config.yml"
    config.write_text(CONFIG.format(root=root, port=port))
    log = open(work_dir / "registry.log", "ab")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    registry = ReferenceRegistry(port=port, root=root, process=process)
    try:
        _wait_until_up(registry, work_dir)
        yield registry
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _wait_until_up(registry: ReferenceRegistry, work_dir: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(work_dir / 'registry.log').read_text()[-2000:]}")
        try:
            if requests.get(f"{registry.url}/v2/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("docker-registry did not answer within 30 s")
