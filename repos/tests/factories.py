"""Builders for test content: blobs, image configs, manifests and indexes as real bytes."""

from __future__ import annotations

import hashlib
import json

import factory

from repos.models import Repository
from repos.oci import media_types


class RepositoryFactory(factory.django.DjangoModelFactory[Repository]):
    class Meta:
        model = Repository
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"repo-{n}")
    description = "test repository"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_config(
    *, os: str = "linux", architecture: str = "amd64", variant: str | None = None, history: list[dict] | None = None
) -> bytes:
    config = {
        "architecture": architecture,
        "os": os,
        "created": "2026-01-02T03:04:05Z",
        "config": {"Cmd": ["/hello"], "Env": ["PATH=/bin"], "Labels": {"team": "core"}},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": history or [{"created": "2026-01-02T03:04:05Z", "created_by": "COPY hello.txt / # buildkit"}],
    }
    if variant:
        config["variant"] = variant
    return json.dumps(config).encode()


def image_manifest(
    *,
    config: bytes,
    layers: list[bytes],
    oci: bool = False,
    subject: dict | None = None,
    artifact_type: str | None = None,
) -> bytes:
    layer_type = media_types.OCI_LAYER_TAR_GZIP if oci else media_types.DOCKER_LAYER_TAR_GZIP
    body = {
        "schemaVersion": 2,
        "mediaType": media_types.OCI_MANIFEST if oci else media_types.DOCKER_MANIFEST_V2,
        "config": {
            "mediaType": media_types.OCI_CONFIG if oci else media_types.DOCKER_CONFIG,
            "digest": digest_of(config),
            "size": len(config),
        },
        "layers": [{"mediaType": layer_type, "digest": digest_of(l), "size": len(l)} for l in layers],
    }
    if subject:
        body["subject"] = subject
    if artifact_type:
        body["artifactType"] = artifact_type
    return json.dumps(body, indent=3).encode()


def index(*, children: list[tuple[bytes, dict]], oci: bool = False) -> bytes:
    child_type = media_types.OCI_MANIFEST if oci else media_types.DOCKER_MANIFEST_V2
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_INDEX if oci else media_types.DOCKER_MANIFEST_LIST_V2,
            "manifests": [
                {"mediaType": child_type, "digest": digest_of(raw), "size": len(raw), "platform": platform}
                for raw, platform in children
            ],
        }
    ).encode()
