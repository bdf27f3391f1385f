"""Write a multi-arch OCI image layout on disk, for real clients (skopeo) to push."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

from repos.oci import media_types


def _write_blob(root: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layer(content: bytes) -> tuple[bytes, str]:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode = len(content), 0o644
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0), "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()


def write_layout(root: Path, *, tag: str, platforms: list[tuple[str, str]], content: str) -> str:
    """An OCI layout holding one index tagged `tag`; returns the index digest."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    children = []
    for os_, arch in platforms:
        layer, diff_id = _layer(f"{content} {os_}/{arch}\n".encode())
        config = json.dumps(
            {
                "architecture": arch,
                "os": os_,
                "created": "2026-01-02T03:04:05Z",
                "config": {"Cmd": ["/hello"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": "2026-01-02T03:04:05Z", "created_by": "COPY hello.txt / # buildkit"}],
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_types.OCI_MANIFEST,
                "config": {"mediaType": media_types.OCI_CONFIG, **_write_blob(root, config)},
                "layers": [{"mediaType": media_types.OCI_LAYER_TAR_GZIP, **_write_blob(root, layer)}],
            }
        ).encode()
        children.append(
            {
                "mediaType": media_types.OCI_MANIFEST,
                **_write_blob(root, manifest),
                "platform": {"os": os_, "architecture": arch},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": children}).encode()
    described = {
        "mediaType": media_types.OCI_INDEX,
        **_write_blob(root, index),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [described]}))
    return described["digest"]
