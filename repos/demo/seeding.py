"""Seed realistic multi-arch content in bulk, for the page benchmark and demos.

The rows are the ones a real push writes through `manifest_put` (same config parsing, same derived
per-platform tags), created in bulk so that 1,000 images / 10,000 tags take seconds, not an hour.
Blob bytes are written to the blob store too (unless `write_blobs=False`), so seeded images can be pulled.
What each image holds is planned in planning.py; this module seeds repositories and users and writes the plans.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from repos.demo import content
from repos.demo.planning import PLATFORMS, Batch, plan_image
from repos.models import (
    Blob,
    Image,
    ImageCoverage,
    ImageManifest,
    Manifest,
    ManifestLabel,
    ManifestLayer,
    ManifestListEntry,
    Repository,
    RepositoryBlob,
    Tag,
)
from repos.services.aggregates import image_coverage_refresh, repository_stats_mark
from repos.storage import get_blob_store

STAGES = [("dev", 10, []), ("test", 20, ["linux/amd64"]), ("prod", 30, ["linux/amd64", "linux/arm64"])]
USERS = ("alice", "bob", "carol")


@dataclass
class SeedReport:
    repositories: int = 0
    images: int = 0
    tags: int = 0
    manifests: int = 0
    blobs: int = 0


def seed_dashboard_content(
    *, images: int, tags: int, prefix: str = "seed", write_blobs: bool = True, batch_size: int = 500, seed: int = 7
) -> SeedReport:
    rng = random.Random(seed)
    repositories = _seed_repositories(prefix)
    users = _seed_users()
    report = SeedReport(repositories=len(repositories))
    now = timezone.now().replace(microsecond=0)
    base_layers = {
        p: content.layer(f"etc/os-release-{'-'.join(filter(None, p))}", f"base {p}\n".encode() * 40) for p in PLATFORMS
    }
    existing = set(Image.objects.filter(repository__in=repositories).values_list("repository_id", "name"))
    per_image, extra = divmod(tags, max(images, 1))
    batch = Batch()
    with _planned_times():
        for number in range(images):
            repository = repositories[number % len(repositories)]
            name = f"team-{number % 25:02d}/service-{number:04d}"
            if (repository.id, name) in existing:
                continue
            tag_budget = per_image + (1 if number < extra else 0)
            plan_image(
                batch,
                rng=rng,
                repository=repository,
                name=name,
                number=number,
                tag_budget=tag_budget,
                base_layers=base_layers,
                users=users,
                now=now,
            )
            if len(batch.images) >= batch_size:
                _flush(batch, report, write_blobs=write_blobs)
                batch = Batch()
        _flush(batch, report, write_blobs=write_blobs)
    if report.images:
        # Bulk writes send no signals: flag the counters as a push would, their next reader recounts them.
        repository_stats_mark(repository_ids=[r.id for r in repositories], site=True)
    _analyze()
    return report


@contextmanager
def _planned_times() -> Iterator[None]:
    """Insert the planned push times as they are: auto_now / auto_now_add would stamp every row with now.

    Seeding only (a command or a test fixture, one writer): the fields are switched back afterwards.
    """
    fields = [ImageManifest._meta.get_field("pushed_at"), Tag._meta.get_field("updated")]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (auto_now, auto_now_add) in zip(fields, saved):
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would gather a little later.

    PostgreSQL also vacuums (outside a transaction only), as autovacuum does after many inserts: the
    visibility map it sets lets counts read an index alone instead of every row.
    """
    tables = [
        model._meta.db_table
        for model in (
            Blob,
            Image,
            ImageCoverage,
            ImageManifest,
            Manifest,
            ManifestLabel,
            ManifestLayer,
            ManifestListEntry,
            Repository,
            RepositoryBlob,
            Tag,
        )
    ]
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")


def _seed_repositories(prefix: str) -> list[Repository]:
    found = []
    for stage, order, required in STAGES:
        repository, _ = Repository.objects.get_or_create(
            key=f"{prefix}-{stage}",
            defaults={
                "description": f"Seeded {stage} repository",
                "stage": stage,
                "stage_order": order,
                "required_platforms": required,
                "tag_immutability": stage == "prod",
            },
        )
        found.append(repository)
    return found


def _seed_users() -> list[int]:
    user_model = get_user_model()
    ids = []
    for username in USERS:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(username=username)
            user.set_unusable_password()
            user.save()
        ids.append(user.id)
    return ids


def _ids(model, digests) -> dict[str, int]:
    digests = list(digests)
    found = {}
    for start in range(0, len(digests), 500):
        found.update(model.objects.filter(digest__in=digests[start : start + 500]).values_list("digest", "id"))
    return found


def _flush(batch: Batch, report: SeedReport, *, write_blobs: bool) -> None:
    if not batch.images:
        return
    if write_blobs:
        _write_blobs(batch.blobs)
    with transaction.atomic():
        Image.objects.bulk_create(
            [Image(repository_id=r, name=n, last_pushed=t) for (r, n), t in batch.images.items()], ignore_conflicts=True
        )
        image_ids = {}
        for repo_id in {r for r, _ in batch.images}:
            wanted = [n for r, n in batch.images if r == repo_id]
            image_ids.update(
                {
                    (repo_id, n): i
                    for n, i in Image.objects.filter(repository_id=repo_id, name__in=wanted).values_list("name", "id")
                }
            )
        Blob.objects.bulk_create(
            [Blob(digest=d, size=len(b)) for d, b in batch.blobs.items()], ignore_conflicts=True, batch_size=500
        )
        blob_ids = _ids(Blob, batch.blobs)
        RepositoryBlob.objects.bulk_create(
            [RepositoryBlob(repository_id=r, blob_id=blob_ids[d]) for r, d in batch.repo_blobs],
            ignore_conflicts=True,
            batch_size=500,
        )
        Manifest.objects.bulk_create(
            [
                Manifest(
                    digest=d,
                    media_type=m["media_type"],
                    raw=m["raw"],
                    size=len(m["raw"]),
                    config_blob_id=blob_ids.get(m["config_digest"]),
                    config=m["config"],
                    os=m["os"],
                    architecture=m["architecture"],
                    variant=m["variant"],
                    image_created=m["image_created"],
                    content_size=m["content_size"],
                )
                for d, m in batch.manifests.items()
            ],
            ignore_conflicts=True,
            batch_size=200,
        )
        manifest_ids = _ids(Manifest, batch.manifests)
        fresh = set(manifest_ids.values()) - set(
            ManifestLabel.objects.filter(manifest_id__in=manifest_ids.values()).values_list("manifest_id", flat=True)
        )
        ManifestLabel.objects.bulk_create(
            [
                label
                for d, m in batch.manifests.items()
                if manifest_ids[d] in fresh
                for label in ManifestLabel.rows_for(manifest_ids[d], m["config"])
            ],
            batch_size=1000,
        )
        ManifestLayer.objects.bulk_create(
            [
                ManifestLayer(
                    manifest_id=manifest_ids[d],
                    blob_id=blob_ids[ld],
                    position=pos,
                    media_type=mt,
                    size=size,
                    created_by=cb,
                    history_created=hc[:64],
                )
                for d, m in batch.manifests.items()
                for pos, (ld, size, mt, cb, hc) in enumerate(m["layers"])
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        ManifestListEntry.objects.bulk_create(
            [
                ManifestListEntry(
                    index_id=manifest_ids[d],
                    manifest_id=manifest_ids[cd],
                    position=pos,
                    os=o,
                    architecture=a,
                    variant=v,
                )
                for d, m in batch.manifests.items()
                for pos, (cd, o, a, v) in enumerate(m["entries"])
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
        _create_memberships(batch, image_ids, manifest_ids)
        report.tags += _create_tags(batch, image_ids, manifest_ids)
    report.images += len(batch.images)
    report.manifests += len(batch.manifests)
    report.blobs += len(batch.blobs)


def _create_memberships(batch: Batch, image_ids: dict, manifest_ids: dict) -> None:
    # The images are new (existing ones are skipped), so no row can conflict.
    ImageManifest.objects.bulk_create(
        [
            ImageManifest(image_id=image_ids[k], manifest_id=manifest_ids[d], pushed_at=t)
            for (k, d), t in batch.memberships.items()
        ],
        batch_size=1000,
    )


def _create_tags(batch: Batch, image_ids: dict, manifest_ids: dict) -> int:
    def build(row) -> Tag:
        key, name, digest, _, updated, user = row
        return Tag(
            image_id=image_ids[key], name=name, manifest_id=manifest_ids[digest], updated=updated, pushed_by_id=user
        )

    # New images only, so no conflict: the insert returns the ids the derived tags point back at.
    top = {(row[0], row[1]): build(row) for row in batch.tags if row[3] is None}
    Tag.objects.bulk_create(top.values(), batch_size=1000)
    derived = []
    for row in batch.tags:
        if row[3] is not None:
            tag = build(row)
            tag.derived_from_id = top[(row[0], row[3])].pk
            derived.append(tag)
    Tag.objects.bulk_create(derived, batch_size=1000)
    image_coverage_refresh(image_ids=image_ids.values())  # bulk writes send no signals
    return len(batch.tags)


def _write_blobs(blobs: dict[str, bytes]) -> None:
    store = get_blob_store()
    staging = os.path.join(settings.UPLOAD_STAGING_ROOT, "seed")
    os.makedirs(staging, exist_ok=True)
    for digest, data in blobs.items():
        if store.exists(digest):
            continue
        fd, path = tempfile.mkstemp(dir=staging)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        store.commit(staged_path=path, digest=digest)
