"""Promotion cost: a 1 MB vs a 1 GB two-arch image, and a 10-platform index; bytes written while promoting.

Promotion is metadata only, so its time should not depend on the image size (ratio ≈ 1) and no byte
should reach the blob storage. The images are stored through the registry services into a fresh
DATA_DIR (blob bytes really on disk), then each one is promoted several times (copy, each time into
a new target repository, so every run creates all rows), two ways:

  service   repos.promotion.execution.promotion_execute: the one transaction (plan under locks, rows)
  job       a promotion job created and run as the Celery worker runs it (claim, execute, ledger)

Files and bytes under the blob root and the upload staging area are counted before and after.

Usage: .venv/bin/python bench/promotion.py [--runs 15] [--big-mib 1024] [--databases sqlite,postgres]
                                          [--write-results]
Each database is measured in its own process: SQLite in the temporary DATA_DIR, PostgreSQL in a fresh
database on $DATABASE_URL's server (dropped afterwards).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MiB = 1024 * 1024
MARKER = "--- report ---\n"
PLATFORMS_10 = [
    ("linux", a, v)
    for a, v in (
        ("amd64", ""),
        ("arm64", ""),
        ("arm", "v7"),
        ("arm", "v6"),
        ("386", ""),
        ("ppc64le", ""),
        ("s390x", ""),
        ("riscv64", ""),
        ("mips64le", ""),
    )
] + [("windows", "amd64", "")]


def setup_django(data_dir: Path, postgres: bool) -> str | None:
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    database = None
    if postgres:
        from tests.support.servers import _create_database

        os.environ["DATABASE_URL"], database = _create_database(os.environ["DATABASE_URL"])
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database


def push_blob_of_size(repository, image: str, size: int, scratch: Path) -> str:
    """Random bytes of `size` stored through the upload service (hashed, verified, content-addressed)."""
    from repos.services.uploads import blob_push_monolithic

    path, hasher = scratch / "blob", hashlib.sha256()
    with open(path, "wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MiB))
            hasher.update(chunk)
            handle.write(chunk)
            left -= len(chunk)
    digest = f"sha256:{hasher.hexdigest()}"
    with open(path, "rb") as handle:
        blob_push_monolithic(repository=repository, image_name=image, digest=digest, stream=handle, length=size)
    path.unlink()
    return digest


def push_multiarch(repository, image: str, *, platforms, layer_bytes: int, scratch: Path) -> str:
    import json

    from repos.oci import media_types
    from repos.services.manifests import manifest_put
    from repos.tests.promotion.content import push_blob
    from tests.support import content as f

    children = []
    for os_, arch, variant in platforms:
        config = f.image_config(os=os_, architecture=arch, variant=variant or None)
        push_blob(repository, image, config)
        layer_digest = push_blob_of_size(repository, image, layer_bytes, scratch)
        raw = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_types.OCI_MANIFEST,
                "config": {"mediaType": media_types.OCI_CONFIG, "digest": f.digest_of(config), "size": len(config)},
                "layers": [{"mediaType": media_types.OCI_LAYER_TAR_GZIP, "digest": layer_digest, "size": layer_bytes}],
            }
        ).encode()
        manifest_put(
            repository=repository,
            image_name=image,
            reference=f.digest_of(raw),
            raw=raw,
            content_type=media_types.OCI_MANIFEST,
        )
        platform = {"os": os_, "architecture": arch, **({"variant": variant} if variant else {})}
        children.append((raw, platform))
    index = f.index(children=children, oci=True)
    manifest_put(
        repository=repository, image_name=image, reference="latest", raw=index, content_type=media_types.OCI_INDEX
    )
    return f.digest_of(index)


def usage(*roots: str) -> tuple[int, int]:
    from repos.tests.promotion.content import storage_usage

    totals = [storage_usage(root) if os.path.isdir(root) else (0, 0) for root in roots]
    return sum(t[0] for t in totals), sum(t[1] for t in totals)


def rows() -> int:
    from repos.models import ImageManifest, PromotedDigest, RepositoryBlob, Tag

    return sum(m.objects.count() for m in (ImageManifest, PromotedDigest, RepositoryBlob, Tag))


def measure(user, kinds: list[str], runs: int) -> dict[str, dict]:
    """Median times per image kind; the kinds take turns, so drift on the machine hits them alike."""
    from repos.models import Repository
    from repos.promotion.execution import PromotionRequest, promotion_execute
    from repos.promotion.jobs import promotion_job_run_here

    def request(kind: str, how: str, i: int) -> PromotionRequest:
        # A new target repository each time: every row (blob links too) is created, nothing is reused.
        target = Repository.objects.create(key=f"{kind}-{how}-{i}")
        return PromotionRequest(
            source_key="docker-local", source_image=kind, target_key=target.key, source_tag="latest", copy=True
        )

    samples: dict[str, dict[str, list[float]]] = {kind: {"service": [], "job": [], "rows": []} for kind in kinds}
    for kind in kinds:
        promotion_execute(request=request(kind, "warm", 0), user=user)  # warm caches and connections
    for i in range(runs):
        for kind in kinds:
            req = request(kind, "svc", i)
            before = rows()
            start = time.perf_counter()
            promotion_execute(request=req, user=user)
            samples[kind]["service"].append(time.perf_counter() - start)
            samples[kind]["rows"].append(rows() - before)
            req = request(kind, "job", i)
            start = time.perf_counter()
            finished = promotion_job_run_here(request=req, user=user)
            samples[kind]["job"].append(time.perf_counter() - start)
            assert finished is not None and finished.status == "succeeded", finished and finished.error
    return {
        kind: {
            "service_ms": statistics.median(s["service"]) * 1000,
            "job_ms": statistics.median(s["job"]) * 1000,
            "rows": statistics.median(s["rows"]),
        }
        for kind, s in samples.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big two-arch image")
    parser.add_argument(
        "--databases",
        default="sqlite,postgres" if os.environ.get("DATABASE_URL") else "sqlite",
        help="comma-separated: sqlite, postgres (postgres needs DATABASE_URL)",
    )
    parser.add_argument("--write-results", action="store_true", help="replace the Promotion section of RESULTS.md")
    parser.add_argument("--one", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(MARKER + run_one(args, postgres=args.one == "postgres"))
        return 0
    parts = []
    for database in args.databases.split(","):
        child = subprocess.run(
            [sys.executable, __file__, "--one", database, "--runs", str(args.runs), "--big-mib", str(args.big_mib)],
            capture_output=True,
            text=True,
            check=True,
        )
        parts.append(child.stdout.split(MARKER, 1)[1].strip())
    report = "\n".join(
        [
            "## Promotion",
            "",
            f"`bench/promotion.py --runs {args.runs} --big-mib {args.big_mib}` on {os.cpu_count()} cores, filesystem blob"
            f" storage. Medians of {args.runs} copy promotions of each image, each into a new repository (every row"
            " created); the images take turns. *service*: `promotion_execute`, the one transaction; *job*: a promotion"
            " job claimed and run as the worker runs it (plus the ledger lines).",
            "",
            "\n\n".join(parts),
            "",
        ]
    )
    print(report)
    if args.write_results:
        write_section(ROOT / "bench" / "RESULTS.md", report)
    return 0


def run_one(args, *, postgres: bool) -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-promotion-"))
    database = setup_django(data_dir, postgres)
    try:
        from django.conf import settings
        from django.contrib.auth import get_user_model

        from repos.services.repositories import repositories_seed_defaults

        source = next(r for r in repositories_seed_defaults() if r.key == "docker-local")
        user = get_user_model().objects.create_superuser(username="bench", password="bench-password-1")
        scratch = data_dir / "scratch"
        scratch.mkdir()
        two_arch = [("linux", "amd64", ""), ("linux", "arm64", "")]
        images = [
            ("small", "1 MB two-arch image", two_arch, MiB // 2),
            ("big", f"{args.big_mib} MiB two-arch image", two_arch, args.big_mib * MiB // 2),
            ("ten", "10-platform index (1 MB)", PLATFORMS_10, MiB // 10),
        ]
        for kind, _, platforms, layer_bytes in images:
            push_multiarch(source, kind, platforms=platforms, layer_bytes=layer_bytes, scratch=scratch)
        roots = (settings.BLOB_STORAGE["ROOT"], settings.UPLOAD_STAGING_ROOT)
        stored = usage(*roots)
        results = measure(user, [kind for kind, *_ in images], args.runs)
        after = usage(*roots)
        return render(images, results, stored, after, args, "PostgreSQL" if postgres else "SQLite")
    finally:
        from django.db import connections

        connections.close_all()
        if database:
            from tests.support.servers import _drop_database

            _drop_database(os.environ["DATABASE_URL"], database)
        shutil.rmtree(data_dir, ignore_errors=True)


def render(images, results, stored, after, args, database: str) -> str:
    lines = [
        f"### {database}",
        "",
        "| image | service | job | rows written (service) |",
        "|---|---|---|---|",
    ]
    for kind, label, _, _ in images:
        r = results[kind]
        lines.append(f"| {label} | {r['service_ms']:.1f} ms | {r['job_ms']:.1f} ms | {r['rows']:.0f} |")
    small, big = results["small"], results["big"]
    lines += [
        "",
        f"- time ratio {args.big_mib} MiB / 1 MB: service **{big['service_ms'] / small['service_ms']:.2f}**, "
        f"job **{big['job_ms'] / small['job_ms']:.2f}**",
        f"- blob root + upload staging: {stored[0]} files, {stored[1]:,} bytes before; {after[0]} files, "
        f"{after[1]:,} bytes after {len(images) * (2 * args.runs + 1)} promotions: "
        f"**{after[1] - stored[1]} bytes, {after[0] - stored[0]} files written**",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str, heading: str = "## Promotion") -> None:
    """Replace (or add) the section under `heading`, leaving the other sections as they are."""
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    sys.exit(main())
