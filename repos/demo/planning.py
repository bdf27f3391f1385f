"""Plans of seeded content: for each image, the blobs, manifests, memberships and tags a real push would write,
gathered in a `Batch` that seeding.py then writes in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from repos.demo import content
from repos.oci import media_types
from repos.oci.image_config import layer_history, parse_image_config
from repos.oci.platforms import (
    ATTESTATION_MANIFEST,
    REFERENCE_DIGEST_ANNOTATION,
    REFERENCE_TYPE_ANNOTATION,
    UNKNOWN,
    platform_tag,
)
from repos.services.manifests import config_summary  # the same summary a real push stores

# The platforms an image gets depend on its number modulo 20: most are amd64+arm64, some lack arm64.
PLATFORMS = [("linux", "amd64", ""), ("linux", "arm64", ""), ("linux", "arm", "v7"), ("linux", "s390x", "")]


def platforms_for(number: int) -> list[tuple[str, str, str]]:
    slot = number % 20
    if slot < 12:
        return PLATFORMS[:2]
    if slot < 16:
        return PLATFORMS[:3]
    if slot < 19:
        return PLATFORMS[:1]
    return [PLATFORMS[0], PLATFORMS[3]]


@dataclass
class Batch:
    images: dict[tuple[int, str], datetime] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    repo_blobs: set[tuple[int, str]] = field(default_factory=set)
    manifests: dict[str, dict] = field(default_factory=dict)
    memberships: dict[tuple[tuple[int, str], str], datetime] = field(default_factory=dict)
    # (image key, tag name, manifest digest, parent tag name or None, updated, user id)
    tags: list[tuple] = field(default_factory=list)


def plan_image(batch: Batch, *, rng, repository, name, number, tag_budget, base_layers, users, now) -> None:
    platforms = platforms_for(number)
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
