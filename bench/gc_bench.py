"""Garbage collection over many blobs: this project's `manage.py gc` and the reference registry's
`registry garbage-collect`, on the same content, side by side.

    .venv/bin/python -m bench.gc_bench --blobs 100000 [--database-url postgres://...]

Both stores get the same N blobs (1 KiB each, filesystem): half are used by N/20 image manifests
(config + 9 layers each, every manifest tagged), half are referenced by nothing. Each collector
runs once as a dry run and once for real, under /usr/bin/time (wall time and peak memory); the
script checks that exactly the unreferenced half is gone afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.text import first_group  # noqa: E402

LAYERS_PER_MANIFEST = 9
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def make_content(n_blobs: int):
    n_manifests = n_blobs // 2 // (LAYERS_PER_MANIFEST + 1)
    blobs = [os.urandom(1024) for _ in range(n_blobs)]
    digests = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    manifests = []
    for m in range(n_manifests):
        base = m * (LAYERS_PER_MANIFEST + 1)
        config, layers = digests[base], digests[base + 1 : base + 1 + LAYERS_PER_MANIFEST]
        raw = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_V2,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": config,
                    "size": 1024,
                },
                "layers": [
                    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": d, "size": 1024}
                    for d in layers
                ],
            }
        ).encode()
        manifests.append((raw, config, layers))
    referenced = n_manifests * (LAYERS_PER_MANIFEST + 1)
    return blobs, digests, manifests, referenced


def timed(cmd: list[str], env: dict) -> tuple[float, int, str]:
    started = time.monotonic()
    result = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    rss_kb = int(first_group(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr))
    return elapsed, rss_kb * 1024, result.stdout + result.stderr


def write_blob(root: Path, digest: str, data: bytes, *, reference_layout: bool) -> None:
    hexpart = digest[7:]
    if reference_layout:
        path = root / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"
    else:
        path = root / "sha256" / hexpart[:2] / hexpart
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def bench_ours(work: Path, content, database_url: str) -> dict:
    blobs, digests, manifests, referenced = content
    data_dir = work / "ours"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "DATABASE_URL", "REDIS_URL"))}
    env.update(DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="WARNING")
    db_name = None
    if database_url:
        import psycopg

        db_name = f"gcbench_{uuid.uuid4().hex[:8]}"
        root = database_url.rpartition("/")[0]
        with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = f"{root}/{db_name}"
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        populate = subprocess.run(
            [sys.executable, "-m", "bench.gc_bench", "--populate", str(work / "content.json")],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        print(populate.stdout.strip())
        cmd = [sys.executable, "manage.py", "gc", "--grace", "0"]
        dry = timed([*cmd, "--dry-run"], env)
        real = timed(cmd, env)
        removed = int(first_group(r"^  blobs: (\d+)$", real[2], re.M))
        took = [float(first_group(r"^  took: ([0-9.]+) s$", out[2], re.M)) for out in (dry, real)]
        left = count_files(data_dir / "blobs")
        return {"dry": dry, "real": real, "removed": removed, "left": left, "expected_left": referenced, "took": took}
    finally:
        if db_name:
            import psycopg

            with psycopg.connect(f"{database_url.rpartition('/')[0]}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def populate(content_path: str) -> None:
    """Runs inside Django (child process): blob files, rows, manifests, layers, tags."""
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from repos.models import Blob, Image, ImageManifest, Manifest, ManifestLayer, Repository, RepositoryBlob, Tag

    with open(content_path) as handle:
        spec = json.load(handle)
    root = Path(settings.BLOB_STORAGE["ROOT"])
    started = time.monotonic()
    digests = spec["digests"]
    blob_dir = Path(spec["blob_dir"])
    for digest in digests:
        hexpart = digest[7:]
        target = root / "sha256" / hexpart[:2] / hexpart
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(blob_dir / hexpart, target)
    old = timezone.now() - timedelta(days=30)
    repository, _ = Repository.objects.get_or_create(key="bench")
    image, _ = Image.objects.get_or_create(repository=repository, name="app")
    Blob.objects.bulk_create([Blob(digest=d, size=1024, touched=old) for d in digests], batch_size=5000)
    ids = dict(Blob.objects.values_list("digest", "pk"))
    RepositoryBlob.objects.bulk_create(
        [RepositoryBlob(repository=repository, blob_id=pk) for pk in ids.values()], batch_size=5000
    )
    rows = []
    for raw_hex, config, layers in spec["manifests"]:
        raw = bytes.fromhex(raw_hex)
        rows.append(
            Manifest(
                digest="sha256:" + hashlib.sha256(raw).hexdigest(),
                media_type=MANIFEST_V2,
                raw=raw,
                size=len(raw),
                config_blob_id=ids[config],
                content_size=1024 * (len(layers) + 1),
            )
        )
    Manifest.objects.bulk_create(rows, batch_size=2000)
    by_digest = dict(Manifest.objects.values_list("digest", "pk"))
    layer_rows, members, tags = [], [], []
    for n, (raw_hex, _config, layers) in enumerate(spec["manifests"]):
        manifest_id = by_digest["sha256:" + hashlib.sha256(bytes.fromhex(raw_hex)).hexdigest()]
        layer_rows += [
            ManifestLayer(
                manifest_id=manifest_id,
                blob_id=ids[d],
                position=i,
                media_type="application/vnd.docker.image.rootfs.diff.tar.gzip",
                size=1024,
            )
            for i, d in enumerate(layers)
        ]
        members.append(ImageManifest(image=image, manifest_id=manifest_id))
        tags.append(Tag(image=image, name=f"t{n}", manifest_id=manifest_id))
    ManifestLayer.objects.bulk_create(layer_rows, batch_size=5000)
    ImageManifest.objects.bulk_create(members, batch_size=5000)
    Tag.objects.bulk_create(tags, batch_size=5000)
    print(f"ours: populated {len(digests)} blobs, {len(rows)} manifests in {time.monotonic() - started:.1f} s")


def bench_reference(work: Path, content) -> dict:
    blobs, digests, manifests, referenced = content
    root = work / "reference"
    for digest, data in zip(digests, blobs):
        write_blob(root, digest, data, reference_layout=True)
    repo = root / "docker/registry/v2/repositories/bench/app"
    for n, (raw, config, layers) in enumerate(manifests):
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        write_blob(root, digest, raw, reference_layout=True)
        for link in (
            repo / "_manifests/revisions/sha256" / digest[7:] / "link",
            repo / "_manifests/tags" / f"t{n}" / "current/link",
            repo / "_manifests/tags" / f"t{n}" / "index/sha256" / digest[7:] / "link",
        ):
            link.parent.mkdir(parents=True, exist_ok=True)
            link.write_text(digest)
        for layer in [config, *layers]:
            link = repo / "_layers/sha256" / layer[7:] / "link"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.write_text(layer)
    config = work / "reference.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\n"
        f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n"
    )
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise SystemExit("the reference registry (docker-registry) is not installed")
    dry = timed([binary, "garbage-collect", "--dry-run", str(config)], dict(os.environ))
    real = timed([binary, "garbage-collect", str(config)], dict(os.environ))
    left = count_files(root / "docker/registry/v2/blobs")
    return {"dry": dry, "real": real, "left": left, "expected_left": referenced + len(manifests)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blobs", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--populate", default="")
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    if args.populate:
        populate(args.populate)
        return
    work = Path(tempfile.mkdtemp(prefix="gc-bench-"))
    try:
        content = make_content(args.blobs)
        blobs, digests, manifests, referenced = content
        blob_dir = work / "pool"
        blob_dir.mkdir()
        for digest, data in zip(digests, blobs):
            (blob_dir / digest[7:]).write_bytes(data)
        (work / "content.json").write_text(
            json.dumps(
                {
                    "digests": digests,
                    "blob_dir": str(blob_dir),
                    "manifests": [(raw.hex(), config, layers) for raw, config, layers in manifests],
                }
            )
        )
        db = "PostgreSQL" if args.database_url else "SQLite"
        ours = bench_ours(work, content, args.database_url)
        print(
            f"\nGC over {args.blobs:,} blobs ({referenced:,} used by {len(manifests):,} tagged manifests, "
            f"{args.blobs - referenced:,} unreferenced), filesystem storage, {db}"
        )
        print("| collector | dry run | run | of which collecting | peak memory (run) | blobs left |")
        print("|---|---|---|---|---|---|")
        print(
            f"| this project (`manage.py gc --grace 0`) | {ours['dry'][0]:.1f} s | {ours['real'][0]:.1f} s | "
            f"{ours['took'][1]:.1f} s (dry {ours['took'][0]:.1f} s) | "
            f"{ours['real'][1] / 2**20:.0f} MiB | {ours['left']:,} (expected {ours['expected_left']:,}) |"
        )
        if not args.skip_reference:
            ref = bench_reference(work, content)
            print(
                f"| reference registry (`registry garbage-collect`) | {ref['dry'][0]:.1f} s | {ref['real'][0]:.1f} s | — | "
                f"{ref['real'][1] / 2**20:.0f} MiB | {ref['left']:,} (expected {ref['expected_left']:,}, "
                f"manifests are blobs there) |"
            )
            print(
                f"\nratio ours/reference (run): time {ours['real'][0] / ref['real'][0]:.2f}, "
                f"memory {ours['real'][1] / ref['real'][1]:.2f}"
            )
        assert ours["left"] == ours["expected_left"], "GC must leave exactly the referenced blobs"
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
