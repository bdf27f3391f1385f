"""Remote repositories (pull-through cache) against pulling from the upstream directly, in one run.

The upstream is the reference registry (`docker-registry`); the project runs as `make run` runs it
(gunicorn, worker, beat) with a remote repository over that upstream. An image with one large
layer is pushed to the upstream (new bytes every run) and pulled the way a client does (manifest,
config, layer), timing the whole pull:

  first pull   through the remote (fetched from the upstream, streamed while stored)
               vs directly from the upstream                                   (ratio, lower is better)
  cached pull  through the remote again (from the cache)
               vs the same image pulled from a local repository of the project (ratio)
  memory       RSS growth of all server processes while a 1 GiB layer is pulled through the remote
               for the first time                                              target < 50 MB

Usage: .venv/bin/python bench/remote.py [--runs 3] [--size-mib 256] [--memory-mib 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["UPSTREAM_ALLOW_PRIVATE"] = "1"  # the upstream listens on 127.0.0.1

from bench.procs import rss_bytes  # noqa: E402
from bench.registry_vs_reference import Target, blob_file, curl, header_args, project_server, reference_server  # noqa: E402

MiB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def push_image(target: Target, name: str, layer: Path, layer_digest: str, salt: str) -> None:
    """One image (config + one layer) under `name:latest`, with the client's two-step uploads."""
    headers = Target(target.label, target.url, name, target.pids, target.credentials).headers()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "created": salt, "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    import hashlib

    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    for body, digest in ((config, config_digest), (layer, layer_digest)):
        start = requests.post(f"{target.url}/v2/{name}/blobs/uploads/", headers=headers, timeout=60)
        assert start.status_code == 202, start.text
        location = requests.compat.urljoin(target.url, start.headers["Location"])
        location += ("&" if "?" in location else "?") + f"digest={digest}"
        if isinstance(body, Path):
            status, _ = curl(
                "-T", str(body), "-H", "Content-Type: application/octet-stream", *header_args(headers), location
            )
        else:
            status = requests.put(location, data=body, headers=headers, timeout=60).status_code
        assert status == 201, f"{target.label}: upload answered {status}"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest,
                    "size": layer.stat().st_size,
                }
            ],
        }
    ).encode()
    response = requests.put(
        f"{target.url}/v2/{name}/manifests/latest",
        data=manifest,
        headers={**headers, "Content-Type": OCI_MANIFEST},
        timeout=60,
    )
    assert response.status_code == 201, response.text


def pull_seconds(target: Target, name: str) -> float:
    """A client's pull of `name:latest`: token, manifest, then every blob it names (curl for the bytes)."""
    started = time.perf_counter()
    headers = Target(target.label, target.url, name, target.pids, target.credentials).headers("pull")
    response = requests.get(
        f"{target.url}/v2/{name}/manifests/latest", headers={**headers, "Accept": OCI_MANIFEST}, timeout=600
    )
    assert response.status_code == 200, response.text
    manifest = response.json()
    for descriptor in (manifest["config"], *manifest["layers"]):
        status, _ = curl("-L", *header_args(headers), f"{target.url}/v2/{name}/blobs/{descriptor['digest']}")
        assert status == 200, f"{target.label}: blob answered {status}"
    return time.perf_counter() - started


def create_remote(project: Target, key: str, upstream_url: str) -> None:
    response = requests.post(
        f"{project.url}/api/repositories/",
        auth=project.credentials,
        timeout=60,
        json={"key": key, "kind": "remote", "upstream_url": upstream_url},
    )
    assert response.status_code == 201, response.text


def memory_growth(project: Target, name: str) -> tuple[float, float]:
    """Peak RSS growth (MB) of the server's processes during a first pull through the remote."""
    baseline = sum(rss_bytes(pid) for pid in project.pids())
    peak, done = [baseline], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], sum(rss_bytes(pid) for pid in project.pids()))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        seconds = pull_seconds(project, name)
    finally:
        done.set()
        sampler.join()
    return (peak[0] - baseline) / 1e6, seconds


def run(args) -> dict:
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        work = Path(tmp)
        (work / "upstream").mkdir()
        (work / "project").mkdir()
        with reference_server(work / "upstream") as upstream, project_server(work / "project") as project:
            create_remote(project, "hub", upstream.url)
            for run_number in range(args.runs):
                salt = f"remote-{run_number}-{time.time_ns()}"
                layer, digest = blob_file(work, args.size_mib * MiB, salt)
                push_image(upstream, "bench/app", layer, digest, salt)
                push_image(project, "docker-local/bench/app", layer, digest, salt)
                layer.unlink()
                direct = pull_seconds(upstream, "bench/app")
                first = pull_seconds(project, "hub/bench/app")
                cached = pull_seconds(project, "hub/bench/app")
                local = pull_seconds(project, "docker-local/bench/app")
                for key, value in (("direct", direct), ("first", first), ("cached", cached), ("local", local)):
                    results.setdefault(key, []).append(value)
                print(
                    f"run {run_number + 1}: upstream direct {direct:.2f}s, first through remote {first:.2f}s, "
                    f"cached {cached:.2f}s, local {local:.2f}s",
                    flush=True,
                )
            layer, digest = blob_file(work, args.memory_mib * MiB, f"memory-{time.time_ns()}")
            push_image(upstream, "bench/big", layer, digest, "memory")
            layer.unlink()
            growth, seconds = memory_growth(project, "hub/bench/big")
            results["memory_mb"] = [growth]
            results["memory_pull_seconds"] = [seconds]
            print(
                f"memory: {growth:.1f} MB growth while {args.memory_mib} MiB came through the remote ({seconds:.1f}s)",
                flush=True,
            )
    return results


def report(results: dict, args) -> str:
    med = {k: statistics.median(v) for k, v in results.items()}
    size = args.size_mib
    lines = [
        f"Image: one {size} MiB layer + config, new bytes every run; {args.runs} runs, medians; 2 shared CPU cores.",
        "",
        "| workload | through the project | compared with | ratio |",
        "|---|---|---|---|",
        f"| first pull through the remote | {med['first']:.2f} s ({size / med['first']:.0f} MiB/s) "
        f"| direct pull from the upstream {med['direct']:.2f} s ({size / med['direct']:.0f} MiB/s) "
        f"| {med['first'] / med['direct']:.2f}x the time |",
        f"| cached pull through the remote | {med['cached']:.2f} s ({size / med['cached']:.0f} MiB/s) "
        f"| pull from a local repository {med['local']:.2f} s ({size / med['local']:.0f} MiB/s) "
        f"| {med['cached'] / med['local']:.2f}x the time |",
        f"| memory: first pull of a {args.memory_mib} MiB layer through the remote | "
        f"{med['memory_mb']:.1f} MB RSS growth (all server processes) | target < 50 MB | "
        f"{'met' if med['memory_mb'] < 50 else 'MISSED'} |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--memory-mib", type=int, default=1024)
    args = parser.parse_args()
    results = run(args)
    print()
    print(report(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
