"""Test content as real bytes, built in one place: blobs, image configs, manifests and indexes; a multi-arch
image with everything it references; an OCI layout of it on disk for real clients (skopeo); a push of it over
HTTP to any registry; a build context as a .tar.gz."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from repos.oci import media_types
from repos.oci.digests import sha256_digest as digest_of

__all__ = [
    "AMD64",
    "ARM64",
    "ARMV7",
    "LINK",
    "S390X",
    "MultiArchImage",
    "digest_of",
    "image_config",
    "image_manifest",
    "index",
    "layer",
    "multiarch_image",
    "push_over_http",
    "tar_gz",
    "write_oci_layout",
]

AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}
ARMV7 = {"os": "linux", "architecture": "arm", "variant": "v7"}
S390X = {"os": "linux", "architecture": "s390x"}
CREATED = "2026-01-02T03:04:05Z"


def layer(text: str, *, name: str = "hello.txt") -> tuple[bytes, str]:
    """A gzip'd tar holding one file; returns (compressed bytes, diff id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        payload = text.encode()
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(payload), 1_700_000_000, 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), digest_of(tar_bytes)


def image_config(
    *,
    os: str = "linux",
    architecture: str = "amd64",
    variant: str | None = None,
    history: list[dict] | None = None,
    diff_ids: list[str] | None = None,
) -> bytes:
    config = {
        "architecture": architecture,
        "os": os,
        "created": CREATED,
        "config": {"Cmd": ["/hello"], "Env": ["PATH=/bin"], "Labels": {"team": "core"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids or []},
        "history": history or [{"created": CREATED, "created_by": "COPY hello.txt / # buildkit"}],
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
        "layers": [{"mediaType": layer_type, "digest": digest_of(data), "size": len(data)} for data in layers],
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


@dataclass
class MultiArchImage:
    """An index (or Docker manifest list) and everything it references."""

    index: bytes
    index_type: str
    manifests: list[tuple[bytes, str]] = field(default_factory=list)  # (raw, media type), in index order
    blobs: list[bytes] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return digest_of(self.index)

    def write_layout(self, directory: Path, *, tag: str) -> str:
        """An OCI layout of the image tagged `tag`; returns the index digest."""
        write_oci_layout(
            directory,
            index=self.index,
            index_type=self.index_type,
            blobs=[*self.blobs, *(m for m, _ in self.manifests)],
            tag=tag,
        )
        return self.digest


def multiarch_image(
    label: str, *, platforms: Sequence[dict] = (AMD64, ARM64, ARMV7), docker: bool = False
) -> MultiArchImage:
    """One small image per platform (a layer naming the label and the platform), in an OCI index or, with
    `docker`, a Docker manifest list. The same label gives the same bytes."""
    oci = not docker
    image = MultiArchImage(index=b"", index_type=media_types.OCI_INDEX if oci else media_types.DOCKER_MANIFEST_LIST_V2)
    children = []
    for platform in platforms:
        label_of_platform = "/".join(platform[k] for k in ("os", "architecture", "variant") if k in platform)
        data, diff_id = layer(f"{label} {label_of_platform}\n")
        config = image_config(
            os=platform["os"],
            architecture=platform["architecture"],
            variant=platform.get("variant"),
            diff_ids=[diff_id],
        )
        raw = image_manifest(config=config, layers=[data], oci=oci)
        image.blobs += [config, data]
        image.manifests.append((raw, media_types.OCI_MANIFEST if oci else media_types.DOCKER_MANIFEST_V2))
        children.append((raw, dict(platform)))
    image.index = index(children=children, oci=oci)
    return image


def write_oci_layout(
    directory: Path, *, index: bytes, blobs: Iterable[bytes], tag: str, index_type: str = media_types.OCI_INDEX
) -> Path:
    """An OCI image layout (what `skopeo copy oci:DIR:TAG` reads): every blob and manifest, and the index tagged."""
    store = directory / "blobs" / "sha256"
    store.mkdir(parents=True, exist_ok=True)
    for data in [*blobs, index]:
        (store / digest_of(data).split(":", 1)[1]).write_bytes(data)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    described = {
        "mediaType": index_type,
        "digest": digest_of(index),
        "size": len(index),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [described]}))
    return directory


def push_over_http(session: requests.Session, base_url: str, name: str, tag: str, image: MultiArchImage) -> None:
    """Push with the two-step upload every registry supports (the reference one has no one-step POST)."""
    for blob in image.blobs:
        start = session.post(f"{base_url}/v2/{name}/blobs/uploads/")
        assert start.status_code == 202, start.text
        location = requests.compat.urljoin(base_url, start.headers["Location"])
        done = session.put(
            location,
            params={"digest": digest_of(blob)},
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
    for raw, media_type in image.manifests:
        response = session.put(
            f"{base_url}/v2/{name}/manifests/{digest_of(raw)}", data=raw, headers={"Content-Type": media_type}
        )
        assert response.status_code == 201, response.text
    response = session.put(
        f"{base_url}/v2/{name}/manifests/{tag}", data=image.index, headers={"Content-Type": image.index_type}
    )
    assert response.status_code == 201, response.text


LINK = object()  # in tar_gz's files: (LINK, target) is a symbolic link


def tar_gz(files: dict[str, bytes | tuple[object, str]]) -> bytes:
    """A build context: name -> bytes (a file; executable when it is an ELF program) or (LINK, target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                assert data[0] is LINK, data
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                archive.addfile(info)
                continue
            info.size, info.mode = len(data), 0o755 if data[:4] == b"\x7fELF" else 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
