"""Content and assertions shared by the conformance test modules."""

from __future__ import annotations

import json

from repos.oci import media_types
from tests.support import content as f
from tests.support.content import digest_of

NAME = "docker-local/conformance"
OCTET = "application/octet-stream"
EMPTY_CONFIG = b"{}"
ALL_TYPES = ", ".join(sorted(media_types.MANIFEST_TYPES))
AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}


def push_image(registry, *, arch: str = "amd64", tag: str | None = None, name: str = NAME, salt: str = ""):
    """Config + one layer + an OCI manifest; returns (raw, digest, layer digest)."""
    config = f.image_config(architecture=arch)
    layer = f"layer {arch} {salt}".encode()
    registry.push_blob(name, config)
    registry.push_blob(name, layer)
    raw = f.image_manifest(config=config, layers=[layer], oci=True)
    response = registry.push_manifest(name, tag or digest_of(raw), raw, media_types.OCI_MANIFEST)
    assert response.status_code == 201, response.content
    return raw, digest_of(raw), digest_of(layer)


def push_index(registry, tag: str, children: list[tuple[bytes, dict]], name: str = NAME):
    raw = f.index(children=children, oci=True)
    response = registry.push_manifest(name, tag, raw, media_types.OCI_INDEX)
    assert response.status_code == 201, response.content
    return raw, digest_of(raw)


def push_artifact(
    registry,
    *,
    subject: tuple[bytes, str],
    artifact_type: str | None,
    payload: bytes,
    annotations: dict | None = None,
    name: str = NAME,
):
    """An OCI 1.1 artifact: empty config, one layer, a subject."""
    registry.push_blob(name, EMPTY_CONFIG)
    registry.push_blob(name, payload)
    subject_raw, subject_digest = subject
    body = {
        "schemaVersion": 2,
        "mediaType": media_types.OCI_MANIFEST,
        "config": {"mediaType": media_types.OCI_EMPTY, "digest": digest_of(EMPTY_CONFIG), "size": 2},
        "layers": [{"mediaType": "application/vnd.example.sig", "digest": digest_of(payload), "size": len(payload)}],
        "subject": {"mediaType": media_types.OCI_MANIFEST, "digest": subject_digest, "size": len(subject_raw)},
    }
    if artifact_type:
        body["artifactType"] = artifact_type
    if annotations:
        body["annotations"] = annotations
    raw = json.dumps(body).encode()
    response = registry.push_manifest(name, digest_of(raw), raw, media_types.OCI_MANIFEST)
    assert response.status_code == 201, response.content
    return raw, digest_of(raw), response


def next_link(response) -> str:
    """The URL of a `Link: <url>; rel="next"` header."""
    url, _, rel = response["Link"].partition(";")
    assert rel.strip() == 'rel="next"'
    return url.strip().strip("<>")


def same_headers(get, head, names=("Content-Type", "Content-Length", "Docker-Content-Digest", "ETag")):
    for header in names:
        assert head.get(header) == get.get(header), header
