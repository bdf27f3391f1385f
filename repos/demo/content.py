"""Real OCI bytes for seeded images: gzip'd tar layers, image configs, manifests, indexes, attestations."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

from repos.oci import media_types
from repos.oci.digests import sha256_digest as sha256

IN_TOTO = "application/vnd.in-toto+json"


def layer(path: str, content: bytes) -> tuple[bytes, str]:
    """A reproducible gzip'd tar holding one file; returns (compressed bytes, diff id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(path)
        info.size = len(content)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256(tar_bytes)


def image_config(
    *,
    os: str,
    architecture: str,
    variant: str,
    created: str,
    labels: dict[str, str],
    history: list[dict],
    diff_ids: list[str],
    cmd: list[str],
) -> bytes:
    config = {
        "architecture": architecture,
        "os": os,
        "created": created,
        "config": {
            "Entrypoint": ["/app/entrypoint"],
            "Cmd": cmd,
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", f"TARGETARCH={architecture}"],
            "Labels": labels,
            "User": "10001",
            "WorkingDir": "/app",
            "ExposedPorts": {"8080/tcp": {}},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    if variant:
        config["variant"] = variant
    return json.dumps(config, sort_keys=True).encode()


def image_manifest(
    *,
    config: bytes,
    layers: list[bytes],
    config_type: str = media_types.OCI_CONFIG,
    layer_type: str = media_types.OCI_LAYER_TAR_GZIP,
) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_MANIFEST,
            "config": {"mediaType": config_type, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": layer_type, "digest": sha256(data), "size": len(data)} for data in layers],
        },
        indent=2,
    ).encode()


def index(children: list[dict]) -> bytes:
    """`children`: dicts with digest, size, platform (os/architecture/variant) and optional annotations."""
    manifests = []
    for child in children:
        descriptor = {
            "mediaType": media_types.OCI_MANIFEST,
            "digest": child["digest"],
            "size": child["size"],
            "platform": child["platform"],
        }
        if child.get("annotations"):
            descriptor["annotations"] = child["annotations"]
        manifests.append(descriptor)
    return json.dumps(
        {"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": manifests}, indent=2
    ).encode()


def attestation_config() -> bytes:
    return json.dumps(
        {"architecture": "unknown", "os": "unknown", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()


def provenance_statement(subject_digest: str, builder: str) -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "image", "digest": {"sha256": subject_digest.split(":", 1)[1]}}],
            "predicate": {"builder": {"id": builder}},
        }
    ).encode()
