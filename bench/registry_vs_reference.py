"""This project against the reference registry (`docker-registry`) on the same machine, in one run.

The project is started the way `make run` starts it (migrate, bootstrap, collectstatic, then
`python -m config.stack`: gunicorn with config/gunicorn.conf.py, a Celery worker and beat), with
its own DATA_DIR; `docker-registry` gets a generated config and a temporary root directory. The
same workload runs against both, alternating which goes first, and the medians of several runs
are compared (project / reference):

  pull        GET of a blob with curl (MB/s)                                 target >= 1.0x
  push        monolithic: POST, then the blob in the PUT (curl -T) (MB/s)     target >= 0.9x
  chunked     POST, one streamed PATCH (Transfer-Encoding: chunked), PUT      target >= 0.9x
  manifest    GET by tag, wrk with 16 connections (requests/s)                target >= 0.5x
              (with a Bearer token, as docker sends; and anonymously from a public repository)
  memory      RSS growth of all server processes while a 1 GiB blob is pushed target < 50 MB

Usage: .venv/bin/python bench/registry_vs_reference.py [--runs 5] [--size-mib 256] [--memory-mib 1024]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import descendants, rss_bytes  # noqa: E402
from bench.text import first_group  # noqa: E402
from repos.tests.e2e.reference_registry import reference_registry  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

PYTHON = sys.executable
MiB = 1024 * 1024
OCTET = "application/octet-stream"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# A public repository, to measure an anonymous pull beside the authenticated one.
PUBLIC_REPOSITORY = (
    "from repos.models import Repository; "
    "Repository.objects.get_or_create(key='bench-public', defaults={'is_public': True})"
)


@dataclass
class Target:
    label: str
    url: str
    name: str  # the image name clients use
    pids: Callable[[], list[int]]  # the server's processes, for RSS
    credentials: tuple[str, str] | None = None
    results: dict = field(default_factory=dict)

    def headers(self, actions: str = "pull,push") -> dict:
        """What a client sends: a Bearer token when the server asks for one, else Basic."""
        if self.credentials is None:
            return {}
        probe = requests.get(f"{self.url}/v2/", timeout=10)
        challenge = probe.headers.get("WWW-Authenticate", "")
        if probe.status_code == 401 and challenge.lower().startswith("bearer"):
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            token = requests.get(
                params["realm"],
                auth=self.credentials,
                timeout=30,
                params={"service": params.get("service", ""), "scope": f"repository:{self.name}:{actions}"},
            ).json()
            return {"Authorization": f"Bearer {token.get('token') or token['access_token']}"}
        basic = base64.b64encode(":".join(self.credentials).encode()).decode()
        return {"Authorization": f"Basic {basic}"}

    def record(self, workload: str, value: float) -> None:
        self.results.setdefault(workload, []).append(value)


# --- starting the two servers ---------------------------------------------------------------------


@contextmanager
def project_server(work: Path, database_url: str = ""):
    data_dir = work / "data"
    password = secrets.token_urlsafe(12)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE") and not k.startswith("S3_")
    }
    env.update(DATA_DIR=str(data_dir), PORT=str(port), ADMIN_PASSWORD=password, ACCESS_LOG="")
    if database_url:
        env["DATABASE_URL"] = database_url
    for command in (
        ["migrate", "--noinput"],
        ["bootstrap"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
        ["shell", "-c", PUBLIC_REPOSITORY],
    ):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = open(work / "stack.log", "ab")
    stack = subprocess.Popen(
        [PYTHON, "-m", "config.stack"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, stack, work / "stack.log")

        def gunicorn_pids():
            return [pid for pid, cmdline in descendants(stack.pid) if "gunicorn" in cmdline]

        yield Target("project", url, "docker-local/bench", gunicorn_pids, credentials=("admin", password))
    finally:
        stack.terminate()
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, 9)
        log.close()


def _wait_for(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/v2/", timeout=2).status_code in (200, 401):
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def reference_server(work: Path):
    with reference_registry(work) as registry:
        yield Target("reference", registry.url, "bench", lambda: [registry.process.pid])


# --- workloads ------------------------------------------------------------------------------------


def blob_file(work: Path, size: int, salt: str) -> tuple[Path, str]:
    """`size` random-looking bytes, different for every salt (so every push stores a new blob)."""
    path = work / f"blob-{salt}"
    seed = hashlib.sha256(salt.encode()).digest()
    block = seed * (MiB // len(seed))
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for i in range(size // MiB):
            piece = i.to_bytes(8, "big") + block[8:]
            out.write(piece)
            digest.update(piece)
    return path, f"sha256:{digest.hexdigest()}"


def curl(*args: str) -> tuple[int, float]:
    """Runs curl; returns (status, seconds) as curl measured them."""
    out = subprocess.run(
        ["curl", "-s", "-H", "Expect:", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), float(out[1])


def header_args(headers: dict) -> list[str]:
    return [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]


def push_monolithic(target: Target, path: Path, digest: str) -> float:
    """The spec's monolithic upload: POST for a session, then the whole blob in the PUT."""
    headers = target.headers()
    started = time.perf_counter()
    location = _start_upload(target, headers)
    status, _ = curl(
        "-T", str(path), "-H", f"Content-Type: {OCTET}", *header_args(headers), _with_digest(location, digest)
    )
    assert status == 201, f"{target.label}: monolithic push answered {status}"
    return path.stat().st_size / (time.perf_counter() - started) / 1e6


def _start_upload(target: Target, headers: dict) -> str:
    start = requests.post(f"{target.url}/v2/{target.name}/blobs/uploads/", headers=headers, timeout=60)
    assert start.status_code == 202, start.text
    return _absolute(target, start.headers["Location"])


def _with_digest(location: str, digest: str) -> str:
    return f"{location}{'&' if '?' in location else '?'}digest={digest}"


def push_chunked(target: Target, path: Path, digest: str) -> float:
    """What docker does: POST, then the whole layer in one PATCH with a streamed body, then PUT."""
    headers = target.headers()
    started = time.perf_counter()
    location = _start_upload(target, headers)
    patch = subprocess.run(
        [
            "curl",
            "-s",
            "-H",
            "Expect:",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-X",
            "PATCH",
            "-T",
            str(path),
            "-H",
            f"Content-Type: {OCTET}",
            "-H",
            "Transfer-Encoding: chunked",
            *header_args(headers),
            location,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    statuses = re.findall(r"^HTTP/[\d.]+ (\d+)", patch, re.M)
    assert statuses[-1] == "202", patch
    location = _absolute(target, first_group(r"^Location: (\S+)", patch, re.M | re.I))
    done = requests.put(_with_digest(location, digest), headers=headers, timeout=120)
    assert done.status_code == 201, done.text
    return path.stat().st_size / (time.perf_counter() - started) / 1e6


def _absolute(target: Target, location: str) -> str:
    return location if location.startswith("http") else f"{target.url}{location}"


def pull(target: Target, digest: str, size: int) -> float:
    status, seconds = curl("-L", *header_args(target.headers("pull")), f"{target.url}/v2/{target.name}/blobs/{digest}")
    assert status == 200, f"{target.label}: pull answered {status}"
    return size / seconds / 1e6


def push_small_image(target: Target, tag: str) -> None:
    headers = target.headers()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}, "config": {}}
    ).encode()
    layer = b"bench layer"
    for blob in (config, layer):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        location = _start_upload(target, headers)
        response = requests.put(
            _with_digest(location, digest), data=blob, headers={**headers, "Content-Type": OCTET}, timeout=30
        )
        assert response.status_code == 201, response.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    response = requests.put(
        f"{target.url}/v2/{target.name}/manifests/{tag}",
        data=manifest,
        headers={**headers, "Content-Type": OCI_MANIFEST},
        timeout=30,
    )
    assert response.status_code == 201, response.text


def manifest_rate(target: Target, seconds: int, connections: int = 16, anonymous: bool = False) -> float:
    headers = {**({} if anonymous else target.headers("pull")), "Accept": OCI_MANIFEST}
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *header_args(headers),
            f"{target.url}/v2/{target.name}/manifests/bench",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    return float(first_group(r"Requests/sec:\s+([\d.]+)", out))


def memory_growth(target: Target, path: Path, digest: str, *, chunked: bool) -> float:
    """Peak RSS (all server processes) during the push, minus the RSS just before, in MB."""
    baseline = sum(rss_bytes(pid) for pid in target.pids())
    peak, stop = [baseline], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], sum(rss_bytes(pid) for pid in target.pids()))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        (push_chunked if chunked else push_monolithic)(target, path, digest)
    finally:
        stop.set()
        sampler.join()
    return (peak[0] - baseline) / 1e6


# --- the run --------------------------------------------------------------------------------------


def run(args) -> dict[str, dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    size = args.size_mib * MiB
    try:
        with ExitStack() as stack:
            targets = [
                stack.enter_context(project_server(work / "project", args.database_url)),
                stack.enter_context(reference_server(work / "reference")),
            ]
            project = targets[0]
            public = Target("public", project.url, "bench-public/bench", project.pids, project.credentials)
            push_small_image(public, "bench")
            pull_path, pull_digest = blob_file(work, size, "pull")
            for target in targets:
                push_monolithic(target, pull_path, pull_digest)
                push_small_image(target, "bench")
                pull(target, pull_digest, size)  # warm-up
                manifest_rate(target, 2)
            for run_number in range(args.runs):
                order = targets if run_number % 2 == 0 else targets[::-1]
                for target in order:
                    target.record("pull", pull(target, pull_digest, size))
                for workload, push in (("push", push_monolithic), ("chunked", push_chunked)):
                    for target in order:
                        path, digest = blob_file(work, size, f"{workload}-{target.label}-{run_number}")
                        target.record(workload, push(target, path, digest))
                        path.unlink()
                for target in order:
                    target.record("manifest", manifest_rate(target, args.wrk_seconds))
                project.record("manifest-anonymous", manifest_rate(public, args.wrk_seconds, anonymous=True))
                print(f"run {run_number + 1}/{args.runs} done", file=sys.stderr, flush=True)
            for target in targets:
                for chunked in (False, True):
                    path, digest = blob_file(work, args.memory_mib * MiB, f"memory-{target.label}-{chunked}")
                    target.record("memory", memory_growth(target, path, digest, chunked=chunked))
                    path.unlink()
            return {target.label: target.results for target in targets}
    finally:
        shutil.rmtree(work, ignore_errors=True)


TARGETS = {
    "pull": (1.0, "MB/s"),
    "push": (0.9, "MB/s"),
    "chunked": (0.9, "MB/s"),
    "manifest": (0.5, "req/s"),
    "manifest-anonymous": (0.5, "req/s"),
}
# The reference has no authentication: both manifest rows compare with its one figure.
REFERENCE_OF = {"manifest-anonymous": "manifest"}


def report(results: dict, args) -> str:
    project, reference = results["project"], results["reference"]
    machine = results["machine"]
    lines = [
        f"{args.runs} runs, {args.size_mib} MiB blobs, wrk {args.wrk_seconds} s x 16 connections; medians",
        f"{machine['cpus']} CPUs; load average (1, 5, 15 min) before {_load(machine['load_before'])}, "
        f"after {_load(machine['load_after'])}",
        "",
        "| workload | project | reference | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for workload, (goal, unit) in TARGETS.items():
        ours = statistics.median(project[workload])
        theirs = statistics.median(reference[REFERENCE_OF.get(workload, workload)])
        ratio = ours / theirs
        lines.append(
            f"| {workload} | {ours:,.0f} {unit} | {theirs:,.0f} {unit} | {ratio:.2f}x | >= {goal}x | "
            f"{'ok' if ratio >= goal else 'MISSED'} |"
        )
    growth = max(project["memory"])
    lines.append(
        f"| memory, {args.memory_mib} MiB push (monolithic, chunked) | "
        f"+{project['memory'][0]:.1f} / +{project['memory'][1]:.1f} MB | "
        f"+{reference['memory'][0]:.1f} / +{reference['memory'][1]:.1f} MB | | < 50 MB | "
        f"{'ok' if growth < 50 else 'MISSED'} |"
    )
    lines += ["", "all runs:"]
    for workload in (*TARGETS, "memory"):
        theirs = reference[REFERENCE_OF.get(workload, workload)]
        lines.append(f"  {workload:18} project {_fmt(project[workload])}  reference {_fmt(theirs)}")
    return "\n".join(lines)


def _load(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:,.0f}" if v >= 100 else f"{v:.1f}" for v in values) + "]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--memory-mib", type=int, default=1024)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--database-url", default="", help="PostgreSQL for the project (default: SQLite, as make run)")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    for tool in ("curl", "wrk", "docker-registry"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed")
    load_before = os.getloadavg()
    results = run(args)
    load_after = os.getloadavg()
    results["machine"] = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(report(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
