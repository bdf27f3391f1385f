"""Slow clients against a registry: N connections trickling headers, trickling upload bodies or idling
between keep-alive requests, held open while a normal client pushes and pulls a blob and a manifest.

Runs the project as `make run` does (the stack runner: asyncio front + gunicorn behind it), the project's
gunicorn facing the clients directly (`FRONT=0`, the design before the front), and the CNCF reference
registry (`docker-registry`) side by side; prints the normal client's push and pull times with and
without the slow connections, and how many slow connections were still open when it finished.

Usage: .venv/bin/python bench/slow_clients.py [--slow 500] [--blob-mib 16] [--write-results]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("headers", "body", "keepalive")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class SlowCrowd:
    """Slow connections held from a background event loop; counts what the server closed."""

    host: str
    port: int
    count: int
    auth: tuple[str, str] | None = None
    interval: float = 2.0
    upload_paths: list[str] = field(default_factory=list)
    opened: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    closed: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    failed: int = 0

    def _auth_header(self) -> bytes:
        if not self.auth:
            return b""
        token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode())
        return b"Authorization: Basic " + token + b"\r\n"

    async def _hold(self, kind: str, index: int, stop: asyncio.Event) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 30)
        except (TimeoutError, OSError):
            self.failed += 1
            return
        host = f"Host: {self.host}:{self.port}\r\n".encode()
        try:
            if kind == "headers":
                writer.write(b"GET /v2/ HTTP/1.1\r\n" + host)
            elif kind == "body":
                path = (
                    self.upload_paths[index % len(self.upload_paths)]
                    if self.upload_paths
                    else "/v2/docker-local/slow/blobs/uploads/none"
                )
                writer.write(
                    f"PATCH {path} HTTP/1.1\r\n".encode()
                    + host
                    + self._auth_header()
                    + b"Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
                )
            else:
                writer.write(b"GET /v2/ HTTP/1.1\r\n" + host + self._auth_header() + b"\r\n")
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length:
                    await reader.readexactly(int(length[0].split(b":")[1]))
            await writer.drain()
            self.opened[kind] += 1
            while not stop.is_set():
                if kind != "keepalive":
                    writer.write(b"X-Trickle: 1\r\n"[:1] if kind == "body" else b"X-Trickle: 1\r\n")
                    await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(1), self.interval)
                except TimeoutError:
                    continue
                if not data:  # the server closed it (a timeout answer, or plain close)
                    self.closed[kind] += 1
                    return
                await reader.read(65536)
                self.closed[kind] += 1  # answered early: it no longer holds anything
                return
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            self.closed[kind] += 1
        finally:
            writer.close()

    @property
    def open_now(self) -> int:
        return sum(self.opened.values()) - sum(self.closed.values())

    def start(self) -> None:
        self._stop_flag = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (sum(self.opened.values()) + self.failed) < self.count:
            time.sleep(0.2)

    async def _main(self) -> None:
        stop = asyncio.Event()
        tasks = []
        for index in range(self.count):
            tasks.append(asyncio.create_task(self._hold(KINDS[index % 3], index, stop)))
            if index % 50 == 49:
                await asyncio.sleep(0.05)
        while not self._stop_flag.is_set():
            await asyncio.sleep(0.2)
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        self._stop_flag.set()
        self._thread.join(timeout=30)


def upload_paths(base_url: str, auth, count: int) -> list[str]:
    """Real upload sessions for the trickled PATCH bodies (so the server accepts them as uploads)."""
    session = requests.Session()
    session.auth = auth
    paths = []
    for _ in range(count):
        response = session.post(f"{base_url}/v2/docker-local/slow/blobs/uploads/", timeout=30)
        response.raise_for_status()
        paths.append(response.headers["Location"].replace(base_url, ""))
    return paths


def push_and_pull(base_url: str, auth, blob: bytes, tag: str, timeout: float = 60.0) -> tuple[float, float]:
    """A normal client: push a blob, a config and a manifest, then pull them back. Seconds for each."""
    session = requests.Session()
    session.auth = auth
    name = "docker-local/normal"
    started = time.monotonic()
    descriptors: list[dict[str, Any]] = []
    for data in (json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode(), blob):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = session.post(f"{base_url}/v2/{name}/blobs/uploads/", timeout=timeout)
        start.raise_for_status()
        location = start.headers["Location"]
        location = location if location.startswith("http") else base_url + location
        patched = session.patch(
            location, data=data, timeout=timeout, headers={"Content-Type": "application/octet-stream"}
        )
        patched.raise_for_status()
        location = patched.headers["Location"]
        location = location if location.startswith("http") else base_url + location
        session.put(
            location + ("&" if "?" in location else "?") + f"digest={digest}", timeout=timeout
        ).raise_for_status()
        descriptors.append({"digest": digest, "size": len(data)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **descriptors[0]},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **descriptors[1]}],
        }
    ).encode()
    session.put(
        f"{base_url}/v2/{name}/manifests/{tag}", data=manifest, headers={"Content-Type": OCI_MANIFEST}, timeout=timeout
    ).raise_for_status()
    pushed = time.monotonic()
    got = session.get(f"{base_url}/v2/{name}/manifests/{tag}", headers={"Accept": OCI_MANIFEST}, timeout=timeout)
    got.raise_for_status()
    assert got.content == manifest
    layer = session.get(f"{base_url}/v2/{name}/blobs/{descriptors[1]['digest']}", timeout=timeout)
    layer.raise_for_status()
    assert hashlib.sha256(layer.content).hexdigest() == descriptors[1]["digest"].split(":")[1]
    return pushed - started, time.monotonic() - pushed


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return tuple(sorted(values)[len(values) // 2] for values in zip(*runs))


def measure(name: str, url: str, auth, slow: int, blob: bytes) -> dict:
    host, port = url.split("//")[1].split(":")
    result: dict[str, object] = {"server": name}
    push_and_pull(url, auth, blob, "warm-up")  # first requests load code in every web process
    result["push_alone"], result["pull_alone"] = _median(
        [push_and_pull(url, auth, blob, f"alone-{n}") for n in range(3)]
    )
    crowd = SlowCrowd(
        host=host, port=int(port), count=slow, auth=auth, upload_paths=upload_paths(url, auth, max(1, slow // 3))
    )
    crowd.start()
    result["opened"] = sum(crowd.opened.values())
    try:
        result["push_slow"], result["pull_slow"] = _median(
            [push_and_pull(url, auth, blob, f"crowded-{n}", timeout=30) for n in range(3)]
        )
    except (requests.RequestException, AssertionError) as exc:
        result["push_slow"] = result["pull_slow"] = None
        result["error"] = type(exc).__name__
    result["open_after"] = crowd.open_now
    crowd.stop()
    return result


def render(results: list[dict], slow: int, blob_mib: int) -> str:
    def seconds(value):
        return "timed out (30 s)" if value is None else f"{value:.2f} s"

    lines = [
        "## Slow clients",
        "",
        f"`bench/slow_clients.py --slow {slow} --blob-mib {blob_mib}`: {slow} connections (a third each trickling "
        "request headers, trickling a PATCH body a byte every 2 s, idle after one keep-alive request) held open "
        f"while one normal client pushes a {blob_mib} MiB blob + config + manifest and pulls them back "
        "(medians of 3 after a warm-up; 2 shared CPU cores).",
        "",
        "| server | push alone | pull alone | slow connections opened | push with them | pull with them "
        "| slow still open after |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['server']} | {seconds(r['push_alone'])} | {seconds(r['pull_alone'])} | {r['opened']} | "
            f"{seconds(r['push_slow'])} | {seconds(r['pull_slow'])} | {r['open_after']} |"
        )
    reference = next((r for r in results if r["server"].startswith("docker-registry")), None)
    project = results[0]
    if reference and project["push_slow"] and reference["push_slow"]:
        lines += [
            "",
            f"- with {slow} slow connections, project / docker-registry: push "
            f"{project['push_slow'] / reference['push_slow']:.1f}×, pull "
            f"{project['pull_slow'] / reference['pull_slow']:.1f}×",
        ]
    lines += [
        '- "opened" counts the slow connections established (for keep-alive ones: after their first answer); '
        "with gunicorn facing clients the keep-alive ones never got it, and the normal client timed out.",
        "- The front costs a normal push something when alone: bodies pass through one more local hop "
        "(spooled, or streamed after `FRONT_STREAM_AFTER`); with slow clients it is what keeps the push working.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--blob-mib", type=int, default=16)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)  # SQLite for every project run, like `make run`
    from repos.tests.e2e.reference_registry import reference_registry
    from tests.faults.harness import running_stack

    blob = os.urandom(args.blob_mib * 1024 * 1024)
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        for label, env in (
            ("project (make run: front + gunicorn)", {}),
            ("project, gunicorn facing clients (FRONT=0, before)", {"FRONT": "0"}),
        ):
            with running_stack(Path(tmp) / label.split()[0] / str(len(results)), extra_env=env) as stack:
                stack.wait_ready()
                results.append(measure(label, stack.url, ("admin", stack.admin_password), args.slow, blob))
                print(results[-1], flush=True)
        with reference_registry(Path(tmp) / "reference") as reference:
            results.append(measure("docker-registry 2.8 (peer)", reference.url, None, args.slow, blob))
            print(results[-1], flush=True)
    report = render(results, args.slow, args.blob_mib)
    print(report)
    if args.write_results:
        from bench.promotion import write_section

        write_section(ROOT / "bench" / "RESULTS.md", report, heading="## Slow clients")
    return 0 if results[0]["push_slow"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
