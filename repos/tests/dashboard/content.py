"""A multi-arch image as real bytes: two platforms sharing a base layer, an attestation, a signature.

Pushed through /v2/ by the page tests, and written as an OCI layout for skopeo by the browser test. Richer than
tests/support/content.multiarch_image on purpose: the pages show history, labels, shared layers and referrers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from repos.demo import content as build
from repos.oci import media_types
from tests.support.content import write_oci_layout

XSS = "<script>alert('xss')</script>"
SIGNATURE_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))


@dataclass
class MultiArch:
    blobs: list[bytes] = field(default_factory=list)
    children: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # platform -> (raw, digest)
    attestation: tuple[bytes, str] = (b"", "")
    index: bytes = b""
    base_layer_digest: str = ""
    app_layer_digests: dict[str, str] = field(default_factory=dict)
    signature: bytes = b""

    @property
    def index_digest(self) -> str:
        return build.sha256(self.index)

    def manifests_in_push_order(self) -> list[bytes]:
        return [raw for raw, _ in self.children.values()] + [self.attestation[0]]

    def write_oci_layout(self, directory: Path, tag: str) -> Path:
        blobs = [*self.blobs, *self.manifests_in_push_order()]
        return write_oci_layout(directory, index=self.index, blobs=blobs, tag=tag)


def multiarch(label: str = "app", *, title: str = XSS) -> MultiArch:
    image = MultiArch()
    base, base_diff = build.layer("etc/os-release", b"NAME=base\n" * 300)
    image.blobs.append(base)
    image.base_layer_digest = build.sha256(base)
    entries = []
    for os_name, arch in PLATFORMS:
        app, app_diff = build.layer("app/hello", f"{label} for {arch}\n".encode() * 50)
        history: list[dict] = [
            {"created": "2026-01-02T03:04:05Z", "created_by": "ADD rootfs.tar / # buildkit"},
            {"created": "2026-01-02T03:04:05Z", "created_by": "ENV GREETING=hello", "empty_layer": True},
            {"created": "2026-01-02T03:04:06Z", "created_by": f"COPY hello-{arch} /app/hello # buildkit"},
            {"created": "2026-01-02T03:04:06Z", "created_by": 'CMD ["/app/hello"]', "empty_layer": True},
        ]
        config = build.image_config(
            os=os_name,
            architecture=arch,
            variant="",
            created="2026-01-02T03:04:06Z",
            labels={"team": "core", "org.opencontainers.image.title": title},
            history=history,
            diff_ids=[base_diff, app_diff],
            cmd=["/app/hello"],
        )
        raw = build.image_manifest(config=config, layers=[base, app])
        image.blobs += [config, app]
        image.app_layer_digests[f"{os_name}/{arch}"] = build.sha256(app)
        image.children[f"{os_name}/{arch}"] = (raw, build.sha256(raw))
        entries.append(
            {"digest": build.sha256(raw), "size": len(raw), "platform": {"os": os_name, "architecture": arch}}
        )
    attest_config = build.attestation_config()
    amd64_digest = image.children["linux/amd64"][1]
    statement = build.provenance_statement(amd64_digest, f"test://{label}")
    attestation = build.image_manifest(config=attest_config, layers=[statement], layer_type=build.IN_TOTO)
    image.blobs += [attest_config, statement]
    image.attestation = (attestation, build.sha256(attestation))
    entries.append(
        {
            "digest": build.sha256(attestation),
            "size": len(attestation),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {
                "vnd.docker.reference.digest": amd64_digest,
                "vnd.docker.reference.type": "attestation-manifest",
            },
        }
    )
    image.index = build.index(entries)
    image.signature = _signature(image.index)
    return image


def _signature(index: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.OCI_MANIFEST,
            "artifactType": SIGNATURE_TYPE,
            "config": {"mediaType": media_types.OCI_EMPTY, "digest": build.sha256(b"{}"), "size": 2},
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": build.sha256(SIGNATURE_PAYLOAD),
                    "size": len(SIGNATURE_PAYLOAD),
                }
            ],
            "subject": {"mediaType": media_types.OCI_INDEX, "digest": build.sha256(index), "size": len(index)},
        }
    ).encode()


SIGNATURE_PAYLOAD = b'{"critical": {"type": "cosign container image signature"}}'
