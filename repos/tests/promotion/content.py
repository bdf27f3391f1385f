"""Multi-arch test images stored through the registry services (real bytes, real rows)."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from repos.models import Repository
from repos.oci import media_types
from repos.services.manifests import manifest_put
from repos.services.uploads import blob_push_monolithic
from tests.support import content as f
from tests.support.content import AMD64, ARM64


@dataclass
class PushedIndex:
    digest: str
    children: dict[str, str] = field(default_factory=dict)  # platform -> child digest
    blobs: set[str] = field(default_factory=set)
    referrers: list[str] = field(default_factory=list)


def push_blob(repository: Repository, image: str, data: bytes) -> str:
    digest = f.digest_of(data)
    blob_push_monolithic(
        repository=repository, image_name=image, digest=digest, stream=io.BytesIO(data), length=len(data)
    )
    return digest


def push_image(
    repository: Repository, image: str, platform: dict, *, reference: str | None = None, payload: bytes = b""
) -> tuple[bytes, str, set[str]]:
    config = f.image_config(os=platform["os"], architecture=platform["architecture"], variant=platform.get("variant"))
    layer = b"layer " + json.dumps(platform, sort_keys=True).encode() + payload
    blobs = {push_blob(repository, image, config), push_blob(repository, image, layer)}
    raw = f.image_manifest(config=config, layers=[layer], oci=True)
    digest = f.digest_of(raw)
    manifest_put(
        repository=repository,
        image_name=image,
        reference=reference or digest,
        raw=raw,
        content_type=media_types.OCI_MANIFEST,
    )
    return raw, digest, blobs


def push_index(
    repository: Repository,
    image: str,
    tag: str,
    platforms=(AMD64, ARM64),
    *,
    payload: bytes = b"",
    signed: bool = False,
) -> PushedIndex:
    children, result = [], PushedIndex(digest="")
    for platform in platforms:
        raw, digest, blobs = push_image(repository, image, platform, payload=payload)
        children.append((raw, platform))
        result.children["/".join(platform[k] for k in ("os", "architecture", "variant") if k in platform)] = digest
        result.blobs |= blobs
    raw = f.index(children=children, oci=True)
    result.digest = f.digest_of(raw)
    manifest_put(repository=repository, image_name=image, reference=tag, raw=raw, content_type=media_types.OCI_INDEX)
    if signed:
        result.referrers.append(push_referrer(repository, image, subject=raw))
    return result


def push_referrer(repository: Repository, image: str, *, subject: bytes) -> str:
    """A signature-like artifact whose subject is the given manifest."""
    config = b"{}"
    signature = b"signature of " + f.digest_of(subject).encode()
    push_blob(repository, image, config)
    push_blob(repository, image, signature)
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_MANIFEST,
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": f.digest_of(config), "size": 2},
            "layers": [
                {"mediaType": "application/octet-stream", "digest": f.digest_of(signature), "size": len(signature)}
            ],
            "subject": {"mediaType": media_types.OCI_INDEX, "digest": f.digest_of(subject), "size": len(subject)},
        }
    ).encode()
    digest = f.digest_of(raw)
    manifest_put(
        repository=repository, image_name=image, reference=digest, raw=raw, content_type=media_types.OCI_MANIFEST
    )
    return digest


def storage_usage(root: str | Path) -> tuple[int, int]:
    """(files, bytes) under a blob root."""
    files = size = 0
    for directory, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(directory, name))
    return files, size
