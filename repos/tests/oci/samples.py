"""Realistic manifest / config fixtures shared by the OCI parsing tests."""

from __future__ import annotations

import json
from typing import Any

from repos.oci import media_types as mt
from repos.oci.digests import sha256_digest


def d(label: str) -> str:
    """Deterministic valid digest for a label."""
    return sha256_digest(label.encode())


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, indent=3).encode()


DOCKER_V2 = {
    "schemaVersion": 2,
    "mediaType": mt.DOCKER_MANIFEST_V2,
    "config": {"mediaType": mt.DOCKER_CONFIG, "size": 1469, "digest": d("config")},
    "layers": [
        {"mediaType": mt.DOCKER_LAYER_TAR_GZIP, "size": 3370706, "digest": d("l1")},
        {"mediaType": mt.DOCKER_LAYER_TAR_GZIP, "size": 1024, "digest": d("l2")},
    ],
}

DOCKER_LIST = {
    "schemaVersion": 2,
    "mediaType": mt.DOCKER_MANIFEST_LIST_V2,
    "manifests": [
        {
            "mediaType": mt.DOCKER_MANIFEST_V2,
            "size": 528,
            "digest": d("amd64"),
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        {
            "mediaType": mt.DOCKER_MANIFEST_V2,
            "size": 528,
            "digest": d("arm64"),
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
        },
        {
            "mediaType": mt.DOCKER_MANIFEST_V2,
            "size": 528,
            "digest": d("armv7"),
            "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
        },
        {
            "mediaType": mt.OCI_MANIFEST,
            "size": 566,
            "digest": d("attestation"),
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {
                "vnd.docker.reference.digest": d("amd64"),
                "vnd.docker.reference.type": "attestation-manifest",
            },
        },
    ],
}

OCI_MANIFEST_WITH_SUBJECT = {
    "schemaVersion": 2,
    "mediaType": mt.OCI_MANIFEST,
    "artifactType": "application/vnd.example.sbom.v1+json",
    "config": {"mediaType": mt.OCI_EMPTY, "digest": d("{}"), "size": 2},
    "layers": [
        {
            "mediaType": "application/vnd.example.sbom.v1+json",
            "digest": d("sbom"),
            "size": 812,
            "annotations": {"org.opencontainers.image.title": "sbom.json"},
        }
    ],
    "subject": {"mediaType": mt.OCI_MANIFEST, "digest": d("target"), "size": 1234},
    "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
}

OCI_INDEX = {
    "schemaVersion": 2,
    "mediaType": mt.OCI_INDEX,
    "manifests": [
        {
            "mediaType": mt.OCI_MANIFEST,
            "digest": d("oci-amd64"),
            "size": 1000,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
        {
            "mediaType": mt.OCI_MANIFEST,
            "digest": d("oci-win"),
            "size": 1100,
            "platform": {
                "architecture": "amd64",
                "os": "windows",
                "os.version": "10.0.17763.1457",
                "os.features": ["win32k"],
            },
        },
    ],
    "annotations": {"org.opencontainers.image.ref.name": "1.0"},
}

DOCKER_CONFIG = {
    "architecture": "arm",
    "variant": "v7",
    "os": "linux",
    "created": "2024-02-03T04:05:06.123456789Z",
    "config": {
        "User": "app",
        "Env": ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"],
        "Entrypoint": ["/docker-entrypoint.sh"],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "WorkingDir": "/srv",
        "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
        "Labels": {"maintainer": "team@example.com"},
    },
    "rootfs": {"type": "layers", "diff_ids": [d("diff1"), d("diff2"), d("diff3")]},
    "history": [
        {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs.tar.xz /"},
        {"created": "2024-01-01T00:00:01Z", "created_by": 'CMD ["sh"]', "empty_layer": True},
        {"created_by": "ENV LANG=C.UTF-8", "empty_layer": True},
        {"created_by": "RUN apk add nginx", "comment": "buildkit.dockerfile.v0"},
        {"created_by": "EXPOSE 80", "empty_layer": True},
        {"created_by": "COPY site /srv"},
    ],
}
