"""Reliability soak: kill -9 the Celery worker during promotions, N times; the target must end fully promoted
or untouched, and no job may stay `running`.

The production server (gunicorn), Redis, a Celery worker and Celery beat (running the promotion
reconciler every second, stale after 2 s) are started as in repos/tests/e2e. A two-arch image is
pushed once with skopeo; each run then asks (REST) for a copy into a new target tag and kills the
worker's whole process group:
  - odd runs (PostgreSQL): inside the promotion transaction (the run waits there for a row lock the bench holds);
  - even runs: after a random delay of 0-150 ms (before the claim, during it, or after the commit).
A fresh worker is started and the job is followed until it is finished. Then the target tag and its
per-platform tags are checked: all present with the right digests, or none of them.

Usage: .venv/bin/python bench/promotion_kill.py [--runs 20] [--write-results]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.clients import admin_session, skopeo_push_layout  # noqa: E402
from tests.support.content import AMD64, ARM64, multiarch_image  # noqa: E402
from tests.support.locks import image_row_locked, wait_for_lock_waiter  # noqa: E402
from tests.support.servers import running_server  # noqa: E402


def follow(api, url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(url).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    return api.get(url).json()


def target_state(api, server, tag: str, platforms: dict[str, str]) -> str:
    """'complete', 'untouched' or 'partial' for the target tag and its per-platform tags."""
    wanted = {tag: None, **{f"{tag}-{p.replace('/', '-')}": d for p, d in platforms.items()}}
    present = {}
    for name in wanted:
        response = api.get(
            f"{server.url}/v2/docker-target/soak/manifests/{name}",
            headers={"Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"},
        )
        if response.status_code == 200:
            present[name] = "sha256:" + hashlib.sha256(response.content).hexdigest()
    if not present:
        return "untouched"
    if set(present) == set(wanted) and all(d is None or present[n] == d for n, d in wanted.items()):
        return "complete"
    return "partial"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20260101)
    settings = {"PROMOTION_STALE_SECONDS": "2", "PROMOTION_RECONCILE_SECONDS": "1"}
    outcomes = []
    with (
        tempfile.TemporaryDirectory(prefix="promotion-kill-") as tmp,
        running_server(Path(tmp), redis=True, extra_env=settings) as server,
    ):
        api = admin_session(server)
        layout = Path(tmp) / "layout"
        index_digest = multiarch_image("soak", platforms=(AMD64, ARM64)).write_layout(layout, tag="latest")
        skopeo_push_layout(server, layout, "latest", "docker-local/soak:latest")
        index = json.loads((layout / "blobs" / "sha256" / index_digest.split(":")[1]).read_text())
        platforms = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"] for m in index["manifests"]}
        beat = server.start_beat()
        try:
            database_url = server.env.get("DATABASE_URL", "")
            for run in range(1, args.runs + 1):
                # Inside the transaction needs PostgreSQL: the worker waits there for a row lock the bench holds.
                in_transaction = run % 2 == 1 and database_url.startswith("postgres")
                worker = server.start_worker()
                time.sleep(3)  # the worker connects to the broker
                tag = f"run-{run}"
                with ExitStack() as held:
                    if in_transaction:
                        held.enter_context(image_row_locked(database_url, repository="docker-local", image="soak"))
                    created = api.post(
                        f"{server.url}/api/promotions/",
                        json={
                            "source_repository": "docker-local",
                            "image": "soak",
                            "target_repository": "docker-target",
                            "source_tag": "latest",
                            "target_tag": tag,
                            "copy": True,
                        },
                    ).json()
                    if in_transaction:
                        wait_for_lock_waiter(database_url)
                        moment = "inside the transaction"
                    else:
                        delay = rng.uniform(0, 0.15)
                        time.sleep(delay)
                        moment = f"after {delay * 1000:.0f} ms"
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
                server.workers.remove(worker)
                at_kill = api.get(f"{server.url}{created['url']}").json()["status"]
                replacement = server.start_worker()
                job = follow(api, f"{server.url}{created['url']}")
                state = target_state(api, server, tag, platforms)
                server.stop_worker(replacement)
                server.workers.remove(replacement)
                consistent = (job["status"], state) in (("succeeded", "complete"), ("failed", "untouched"))
                outcomes.append((run, moment, at_kill, job["status"], job["attempts"], state, consistent))
                print(
                    f"run {run:2}: killed {moment:>24}, job was {at_kill:9} -> {job['status']:9} "
                    f"(attempts {job['attempts']}), target {state}",
                    flush=True,
                )
        finally:
            server.stop_worker(beat)
    report = render(outcomes)
    print(report)
    if args.write_results:
        from bench.promotion import write_section

        write_section(ROOT / "bench" / "RESULTS.md", report, heading="## Promotion: worker killed")
    return 0 if all(o[-1] for o in outcomes) else 1


def render(outcomes) -> str:
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    stuck = sum(1 for o in outcomes if o[3] not in ("succeeded", "failed"))
    partial = sum(1 for o in outcomes if o[5] == "partial")
    lines = [
        "## Promotion: worker killed",
        "",
        f"`bench/promotion_kill.py --runs {len(outcomes)}` ({database}, Redis broker): kill -9 of the Celery worker"
        " (whole process group) during a copy promotion, then a fresh worker; Celery beat runs the reconciler every second (stale after 2 s)."
        " Odd runs are killed inside the promotion transaction, even runs after a random delay.",
        "",
        "| run | killed | job at the kill | job in the end | attempts | target |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {o[0]} | {o[1]} | {o[2]} | {o[3]} | {o[4]} | {o[5]} |" for o in outcomes]
    lines += [
        "",
        f"- runs: {len(outcomes)}; target fully promoted or untouched: **{len(outcomes) - partial}/{len(outcomes)}**;"
        f" jobs stuck queued/running: **{stuck}**; job status matching the target: "
        f"**{sum(1 for o in outcomes if o[-1])}/{len(outcomes)}**",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
