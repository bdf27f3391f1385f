"""Real multi-arch image content (gzip'd tar layers, configs, manifests, an index) built in
memory and pushed over HTTP, for end-to-end tests that need images without running a build."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field

import requests

from repos.oci import media_types

PLATFORMS = (("linux", "amd64", None), ("linux", "arm64", None), ("linux", "arm", "v7"))


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(text: str) -> tuple[bytes, str]:
    """A gzip'd tar with one file; returns (compressed bytes, diff id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        payload = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(payload), 1_700_000_000, 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), digest_of(tar_bytes)


@dataclass
class ImageSet:
    """An index (or Docker manifest list) and everything it references."""

    index: bytes
    index_type: str
    manifests: list[tuple[bytes, str]] = field(default_factory=list)  # (raw, media type)
    blobs: list[bytes] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return digest_of(self.index)


def multiarch(label: str, *, docker: bool = False) -> ImageSet:
    manifest_type = media_types.DOCKER_MANIFEST_V2 if docker else media_types.OCI_MANIFEST
    config_type = media_types.DOCKER_CONFIG if docker else media_types.OCI_CONFIG
    layer_type = media_types.DOCKER_LAYER_TAR_GZIP if docker else media_types.OCI_LAYER_TAR_GZIP
    image_set = ImageSet(index=b"", index_type=media_types.DOCKER_MANIFEST_LIST_V2 if docker else media_types.OCI_INDEX)
    entries = []
    for os_name, arch, variant in PLATFORMS:
        layer, diff_id = _layer(f"{label} {os_name}/{arch}{variant or ''}\n")
        config = json.dumps(
            {
                "architecture": arch,
                "os": os_name,
                **({"variant": variant} if variant else {}),
                "created": "2026-01-02T03:04:05Z",
                "config": {"Cmd": ["/hello"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": "2026-01-02T03:04:05Z", "created_by": "COPY hello.txt / # buildkit"}],
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": manifest_type,
                "config": {"mediaType": config_type, "digest": digest_of(config), "size": len(config)},
                "layers": [{"mediaType": layer_type, "digest": digest_of(layer), "size": len(layer)}],
            },
            indent=2,
        ).encode()
        image_set.blobs += [config, layer]
        image_set.manifests.append((manifest, manifest_type))
        platform = {"architecture": arch, "os": os_name, **({"variant": variant} if variant else {})}
        entries.append(
            {"mediaType": manifest_type, "digest": digest_of(manifest), "size": len(manifest), "platform": platform}
        )
    image_set.index = json.dumps(
        {"schemaVersion": 2, "mediaType": image_set.index_type, "manifests": entries}, indent=2
    ).encode()
    return image_set


def push(session: requests.Session, base_url: str, name: str, tag: str, image_set: ImageSet) -> None:
    for blob in image_set.blobs:
        response = session.post(
            f"{base_url}/v2/{name}/blobs/uploads/?digest={digest_of(blob)}",
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 201, response.text
    for raw, media_type in image_set.manifests:
        response = session.put(
            f"{base_url}/v2/{name}/manifests/{digest_of(raw)}", data=raw, headers={"Content-Type": media_type}
        )
        assert response.status_code == 201, response.text
    response = session.put(
        f"{base_url}/v2/{name}/manifests/{tag}", data=image_set.index, headers={"Content-Type": image_set.index_type}
    )
    assert response.status_code == 201, response.text
