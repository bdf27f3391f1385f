"""Seed realistic multi-arch content in bulk, for the page benchmark and demos.

The rows are the ones a real push writes through `manifest_put` (same config parsing, same derived
per-platform tags), created in bulk so that 1,000 images / 10,000 tags take seconds, not an hour.
Blob bytes are written to the blob store too (unless `write_blobs=False`), so seeded images can be pulled.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from repos.demo import content
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
from repos.oci import media_types
from repos.oci.image_config import layer_history, parse_image_config
from repos.oci.platforms import (
    ATTESTATION_MANIFEST,
    REFERENCE_DIGEST_ANNOTATION,
    REFERENCE_TYPE_ANNOTATION,
    UNKNOWN,
    platform_tag,
)
from repos.services.aggregates import image_coverage_refresh, repository_stats_mark
from repos.services.manifests import config_summary  # the same summary a real push stores
from repos.storage import get_blob_store

# (platforms, attach attestations) by image number modulo 20: most are amd64+arm64, some lack arm64.
PLATFORMS = [("linux", "amd64", ""), ("linux", "arm64", ""), ("linux", "arm", "v7"), ("linux", "s390x", "")]
STAGES = [("dev", 10, []), ("test", 20, ["linux/amd64"]), ("prod", 30, ["linux/amd64", "linux/arm64"])]
USERS = ("alice", "bob", "carol")


def _platforms_for(number: int) -> list[tuple[str, str, str]]:
    slot = number % 20
    if slot < 12:
        return PLATFORMS[:2]
    if slot < 16:
        return PLATFORMS[:3]
    if slot < 19:
        return PLATFORMS[:1]
    return [PLATFORMS[0], PLATFORMS[3]]


@dataclass
class SeedReport:
    repositories: int = 0
    images: int = 0
    tags: int = 0
    manifests: int = 0
    blobs: int = 0


@dataclass
class _Batch:
    images: dict[tuple[int, str], datetime] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    repo_blobs: set[tuple[int, str]] = field(default_factory=set)
    manifests: dict[str, dict] = field(default_factory=dict)
    memberships: dict[tuple[tuple[int, str], str], datetime] = field(default_factory=dict)
    # (image key, tag name, manifest digest, parent tag name or None, updated, user id)
    tags: list[tuple] = field(default_factory=list)


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
    batch = _Batch()
    with _planned_times():
        for number in range(images):
            repository = repositories[number % len(repositories)]
            name = f"team-{number % 25:02d}/service-{number:04d}"
            if (repository.id, name) in existing:
                continue
            tag_budget = per_image + (1 if number < extra else 0)
            _plan_image(
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
                batch = _Batch()
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


def _plan_image(batch: _Batch, *, rng, repository, name, number, tag_budget, base_layers, users, now) -> None:
    platforms = _platforms_for(number)
    multi = len(platforms) > 1
    cost = len(platforms) + 1 if multi else 1
    versions: list[str] = []
    remaining = tag_budget
    while not versions or remaining >= 2 * cost:
        versions.append(f"1.{len(versions)}.0")
        remaining -= cost
    remaining = max(remaining, 0)
    with_latest = remaining >= cost
    remaining -= cost if with_latest else 0
    key = (repository.id, name)
    user = users[number % len(users)]
    attest = multi and number % 5 == 0
    first_push = now - timedelta(days=rng.randint(3, 29), minutes=rng.randint(0, 1439))
    pushed = first_push
    last_children: list[str] = []
    for position, version in enumerate(versions):
        pushed = min(first_push + timedelta(days=position, minutes=rng.randint(0, 600)), now)
        app_layer = content.layer("app/service", f"{name} {version}\n".encode() * rng.randint(20, 400))
        children: list[dict[str, Any]] = []
        for os_name, arch, variant in platforms:
            child_digest = _plan_platform_image(
                batch,
                repository,
                name,
                version,
                (os_name, arch, variant),
                base_layers[(os_name, arch, variant)],
                app_layer,
                pushed,
            )
            children.append(
                {
                    "digest": child_digest,
                    "platform": _platform_dict(os_name, arch, variant),
                    "label": (os_name, arch, variant),
                }
            )
            batch.memberships[(key, child_digest)] = pushed
        if multi:
            if attest:
                children += _plan_attestations(batch, repository, children, name, version)
                for child in children[len(platforms) :]:
                    batch.memberships[(key, child["digest"])] = pushed
            index_digest = _plan_index(batch, children)
            batch.memberships[(key, index_digest)] = pushed
            tag_targets = [(version, index_digest, children[: len(platforms)])]
            if with_latest and position == len(versions) - 1:
                tag_targets.append(("latest", index_digest, children[: len(platforms)]))
        else:
            tag_targets = [(version, children[0]["digest"], [])]
            if with_latest and position == len(versions) - 1:
                tag_targets.append(("latest", children[0]["digest"], []))
        for tag_name, target, tag_children in tag_targets:
            batch.tags.append((key, tag_name, target, None, pushed, user))
            for child in tag_children:
                child_os, child_arch, child_variant = child["label"]
                derived = platform_tag(tag_name, child_os, child_arch, child_variant or None)
                batch.tags.append((key, derived, child["digest"], tag_name, pushed, user))
        last_children = [c["digest"] for c in children[: len(platforms)]]
    for extra in range(remaining):
        batch.tags.append((key, f"{versions[-1]}-debug{extra or ''}", last_children[0], None, pushed, user))
    batch.images[key] = pushed


def _platform_dict(os_name: str, arch: str, variant: str) -> dict:
    return {"os": os_name, "architecture": arch, **({"variant": variant} if variant else {})}


def _plan_platform_image(batch, repository, name, version, platform, base, app, pushed) -> str:
    os_name, arch, variant = platform
    (base_bytes, base_diff), (app_bytes, app_diff) = base, app
    created = pushed.strftime("%Y-%m-%dT%H:%M:%SZ")
    history = [
        {"created": created, "created_by": f"ADD rootfs-{arch}.tar / # buildkit"},
        {"created": created, "created_by": "ENV PATH=/usr/local/bin:/usr/bin:/bin", "empty_layer": True},
        {"created": created, "created_by": "COPY service /app/service # buildkit"},
        {"created": created, "created_by": 'CMD ["serve"]', "empty_layer": True},
    ]
    labels = {
        "org.opencontainers.image.title": name,
        "org.opencontainers.image.version": version,
        "team": name.split("/")[0],
    }
    config = content.image_config(
        os=os_name,
        architecture=arch,
        variant=variant,
        created=created,
        labels=labels,
        history=history,
        diff_ids=[base_diff, app_diff],
        cmd=["serve"],
    )
    raw = content.image_manifest(config=config, layers=[base_bytes, app_bytes])
    digest = content.sha256(raw)
    for blob in (config, base_bytes, app_bytes):
        blob_digest = content.sha256(blob)
        batch.blobs[blob_digest] = blob
        batch.repo_blobs.add((repository.id, blob_digest))
    if digest not in batch.manifests:
        parsed = parse_image_config(config)
        steps = layer_history(parsed, 2)
        batch.manifests[digest] = _planned_manifest(
            raw,
            media_types.OCI_MANIFEST,
            content_size=len(config) + len(base_bytes) + len(app_bytes),
            config_digest=content.sha256(config),
            config=config_summary(parsed),
            platform=platform,
            image_created=pushed,
            layers=[
                (
                    content.sha256(data),
                    len(data),
                    media_types.OCI_LAYER_TAR_GZIP,
                    step.created_by or "" if step else "",
                    step.created or "" if step else "",
                )
                for data, step in zip((base_bytes, app_bytes), steps)
            ],
        )
    return digest


def _plan_attestations(batch, repository, children, name, version) -> list[dict]:
    config = content.attestation_config()
    planned = []
    for child in children:
        statement = content.provenance_statement(child["digest"], f"seed://{name}:{version}")
        raw = content.image_manifest(config=config, layers=[statement], layer_type=content.IN_TOTO)
        digest = content.sha256(raw)
        for blob in (config, statement):
            batch.blobs[content.sha256(blob)] = blob
            batch.repo_blobs.add((repository.id, content.sha256(blob)))
        batch.manifests.setdefault(
            digest,
            _planned_manifest(
                raw,
                media_types.OCI_MANIFEST,
                content_size=len(config) + len(statement),
                config_digest=content.sha256(config),
                layers=[(content.sha256(statement), len(statement), content.IN_TOTO, "", "")],
            ),
        )
        planned.append(
            {
                "digest": digest,
                "platform": {"os": UNKNOWN, "architecture": UNKNOWN},
                "label": (UNKNOWN, UNKNOWN, ""),
                "annotations": {
                    REFERENCE_DIGEST_ANNOTATION: child["digest"],
                    REFERENCE_TYPE_ANNOTATION: ATTESTATION_MANIFEST,
                },
            }
        )
    return planned


def _plan_index(batch, children) -> str:
    for child in children:
        child["size"] = len(batch.manifests[child["digest"]]["raw"])
    raw = content.index(children)
    digest = content.sha256(raw)
    batch.manifests.setdefault(
        digest,
        _planned_manifest(
            raw,
            media_types.OCI_INDEX,
            content_size=sum(batch.manifests[c["digest"]]["content_size"] for c in children),
            entries=[(c["digest"], *c["label"]) for c in children],
        ),
    )
    return digest


def _planned_manifest(
    raw: bytes,
    media_type: str,
    *,
    content_size: int,
    config_digest: str | None = None,
    config: dict | None = None,
    platform: tuple[str, str, str] = ("", "", ""),
    image_created: datetime | None = None,
    layers: list[tuple] | None = None,
    entries: list[tuple] | None = None,
) -> dict:
    """The row `_flush` writes for a manifest; `layers`: (digest, size, media type, created by, created),
    `entries` (an index): (child digest, os, architecture, variant)."""
    os_name, arch, variant = platform
    return {
        "raw": raw,
        "media_type": media_type,
        "config_digest": config_digest,
        "config": config or {},
        "os": os_name,
        "architecture": arch,
        "variant": variant,
        "image_created": image_created,
        "content_size": content_size,
        "layers": layers or [],
        "entries": entries or [],
    }


def _ids(model, digests) -> dict[str, int]:
    digests = list(digests)
    found = {}
    for start in range(0, len(digests), 500):
        found.update(model.objects.filter(digest__in=digests[start : start + 500]).values_list("digest", "id"))
    return found


def _flush(batch: _Batch, report: SeedReport, *, write_blobs: bool) -> None:
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


def _create_memberships(batch: _Batch, image_ids: dict, manifest_ids: dict) -> None:
    # The images are new (existing ones are skipped), so no row can conflict.
    ImageManifest.objects.bulk_create(
        [
            ImageManifest(image_id=image_ids[k], manifest_id=manifest_ids[d], pushed_at=t)
            for (k, d), t in batch.memberships.items()
        ],
        batch_size=1000,
    )


def _create_tags(batch: _Batch, image_ids: dict, manifest_ids: dict) -> int:
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
