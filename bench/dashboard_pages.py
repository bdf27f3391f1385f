"""Server time of every dashboard page and API list with 1,000 images / 10,000 tags seeded (or more).

Starts the production server (gunicorn, 2 workers × 8 threads) with its own DATA_DIR and database,
seeds it with `manage.py seed_dashboard` (1,000 images, 10,000 tags, blobs written), signs in as the
admin (who sees everything: the heaviest case), and requests each page sequentially: a few warm-up
requests, then --requests timed ones. *Server time* is gunicorn's own request time (`%(D)s` in its access
log), from the request read to the response written; *client* adds the loopback round trip; *web CPU* is
the CPU time the gunicorn processes spent per request (unaffected by other load on the machine, which the
*load* column shows: the 1-minute load average after each page's batch, on 2 cores).

Usage: .venv/bin/python bench/dashboard_pages.py [--requests 60] [--databases sqlite,postgres]
                                                [--images 1000 --tags 10000 [--metadata-only]] [--write-results]
Ten times the scale: --images 10000 --tags 100000 --metadata-only (database rows only, no blob bytes).
PostgreSQL uses a fresh database on $DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/registry).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import descendants  # noqa: E402
from tests.support.servers import running_server  # noqa: E402

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) used so far by the server process and its workers."""
    total = 0
    for proc in [pid, *(child for child, _ in descendants(pid))]:
        try:
            with open(f"/proc/{proc}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * TICK_MS


TARGET_P95_MS = 150.0
POSTGRES_URL = os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/registry"


def sign_in(server) -> requests.Session:
    session = requests.Session()
    session.get(f"{server.url}/admin/login/").raise_for_status()
    response = session.post(
        f"{server.url}/admin/login/",
        data={
            "username": "admin",
            "password": server.admin_password,
            "next": "/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    assert response.status_code == 302, "sign-in failed"
    return session


def pages(server, session) -> list[tuple[str, str]]:
    """(name, path) of each page measured, found through the API like a client would."""
    api = f"{server.url}/api"
    image = session.get(f"{api}/images/", params={"repository": "seed-dev", "page_size": 1}).json()["results"][0]
    name = image["name"]
    index = session.get(f"{api}/tags/", params={"image": name, "repository": "seed-dev", "name": "latest"}).json()
    latest = next(t for t in index["results"] if t["name"] == "latest")
    child = latest["platforms"][0]["digest"]
    base = f"/repositories/seed-dev/{name}"
    return [
        ("home", "/"),
        ("repositories", "/repositories/"),
        ("repository", "/repositories/seed-dev/"),
        ("repository, page 5", "/repositories/seed-dev/?page=5"),
        ("repository, name filter", "/repositories/seed-dev/?q=service-01"),
        ("image (tags)", f"{base}/"),
        ("tag: manifest list", f"{base}/-/tags/latest/"),
        ("per-arch image", f"{base}/-/manifests/{child}/?index={latest['digest']}"),
        ("coverage", "/coverage/"),
        ("coverage: not on arm64", "/coverage/?platform=linux/arm64&missing=1"),
        ("coverage: missing required", "/coverage/?missing_required=1&page=3"),
        ("coverage.csv (all rows)", "/coverage.csv"),
        ("search: name", "/search/?q=service-04"),
        ("search: short digest", f"/search/?q={child[7:19]}"),
        ("search: platform", "/search/?q=linux/arm/v7"),
        ("search: label", "/search/?q=team=team-07"),
        ("settings", "/repositories/seed-prod/-/settings/"),
        ("API repositories", "/api/repositories/"),
        ("API images", "/api/images/"),
        ("API tags", "/api/tags/"),
        ("API manifests", "/api/manifests/"),
        ("API coverage", "/api/coverage/?missing_required=true"),
    ]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def measure(database: str, requests_per_page: int, seed_args: list[str], reuse: str = "") -> list[dict]:
    """`reuse`: an already seeded SQLite file (copied) or PostgreSQL URL (used as is) instead of seeding."""
    previous = os.environ.pop("DATABASE_URL", None)
    if database == "postgres" and not reuse:
        os.environ["DATABASE_URL"] = POSTGRES_URL
    try:
        with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
            access_log = Path(tmp) / "access.log"
            extra = {"ACCESS_LOG": str(access_log), "GUNICORN_CMD_ARGS": '--access-logformat "%(r)s|%(D)s"'}
            if reuse and database == "sqlite":
                (Path(tmp) / "data").mkdir()
                shutil.copy(reuse, Path(tmp) / "data" / "db.sqlite3")
            elif reuse:
                extra["DATABASE_URL"] = reuse
            with running_server(Path(tmp), extra_env=extra, sqlite=bool(reuse)) as server:
                started = time.monotonic()
                if reuse:
                    server.manage("shell", "-c", _SET_ADMIN_PASSWORD.format(password=server.admin_password))
                else:
                    print(_seed(server, seed_args), flush=True)
                    print(f"  seeding took {time.monotonic() - started:.0f} s", flush=True)
                session = sign_in(server)
                results = []
                for name, path in pages(server, session):
                    for _ in range(3):
                        assert session.get(f"{server.url}{path}").status_code == 200, path
                    client = []
                    mark = access_log.stat().st_size
                    cpu_before = cpu_ms(server.process.pid)
                    for _ in range(requests_per_page):
                        begin = time.perf_counter()
                        response = session.get(f"{server.url}{path}")
                        client.append((time.perf_counter() - begin) * 1000)
                        assert response.status_code == 200, path
                    cpu = (cpu_ms(server.process.pid) - cpu_before) / requests_per_page
                    time.sleep(0.2)  # let gunicorn flush its access log
                    server_ms = _server_times(access_log, mark, path)
                    results.append(
                        {
                            "page": name,
                            "path": path,
                            "server": server_ms,
                            "client": client,
                            "cpu": cpu,
                            "bytes": len(response.content),
                            "load": os.getloadavg()[0],
                        }
                    )
                    print(f"  {name:30s} p95 {percentile(server_ms, 0.95):6.1f} ms", flush=True)
                return results
    finally:
        os.environ.pop("DATABASE_URL", None)
        if previous is not None:
            os.environ["DATABASE_URL"] = previous


_SET_ADMIN_PASSWORD = (
    "from django.contrib.auth import get_user_model; u = get_user_model().objects.get(username='admin'); "
    "u.set_password('{password}'); u.save()"
)


def _seed(server, seed_args: list[str]) -> str:
    # Ten times the scale takes minutes: no timeout here (server.manage has one).
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_dashboard", *seed_args],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _server_times(access_log: Path, offset: int, path: str) -> list[float]:
    with open(access_log, "rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode().splitlines()
    times = []
    for line in lines:
        match = re.search(r"GET (\S+) HTTP/[\d.]+\|(\d+)", line)
        if match and match.group(1) == path:
            times.append(int(match.group(2)) / 1000)
    assert times, f"no access-log lines for {path}"
    return times


def table(results: list[dict]) -> str:
    lines = [
        "| page | server p50 | server p95 | server max | client p95 | web CPU / request | load | response |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['page']} | {statistics.median(r['server']):.1f} ms | **{percentile(r['server'], 0.95):.1f} ms** | "
            f"{max(r['server']):.1f} ms | {percentile(r['client'], 0.95):.1f} ms | {r['cpu']:.1f} ms | {r['load']:.1f} | "
            f"{r['bytes'] / 1024:.0f} KiB |"
        )
    worst = max(results, key=lambda r: percentile(r["server"], 0.95))
    lines.append("")
    lines.append(
        f"- slowest page at p95: {worst['page']}, {percentile(worst['server'], 0.95):.1f} ms "
        f"(target: every page under {TARGET_P95_MS:.0f} ms)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--tags", type=int, default=10000)
    parser.add_argument("--metadata-only", action="store_true", help="seed database rows only, no blob bytes")
    parser.add_argument("--reuse-sqlite", default="", help="an already seeded SQLite file to copy instead of seeding")
    parser.add_argument("--reuse-postgres", default="", help="an already seeded PostgreSQL URL to use instead")
    parser.add_argument("--write-results", action="store_true", help="print the RESULTS.md section to paste")
    args = parser.parse_args()
    seed_args = ["--images", str(args.images), "--tags", str(args.tags)] + (
        ["--metadata-only"] if args.metadata_only else []
    )
    failed = False
    sections = []
    for database in args.databases.split(","):
        print(f"== {database}", flush=True)
        reuse = args.reuse_sqlite if database == "sqlite" else args.reuse_postgres
        results = measure(database, args.requests, seed_args, reuse)
        text = table(results)
        print(text, flush=True)
        sections.append((database, text))
        failed |= any(percentile(r["server"], 0.95) >= TARGET_P95_MS for r in results)
    if args.write_results:
        print("\n## Dashboard pages\n")
        for database, text in sections:
            print(f"### {'SQLite' if database == 'sqlite' else 'PostgreSQL'}\n\n{text}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
