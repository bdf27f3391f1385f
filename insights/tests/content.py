"""Multi-arch test images as real bytes, pushed through /v2/, with per-platform labels and settings to vary."""

from __future__ import annotations

import json

from repos.demo import content as build
from repos.oci import media_types
from repos.tests.registry.client import RegistryClient


def push_index(
    client,
    *,
    name: str,
    tag: str,
    platforms: list[str],
    labels: dict | None = None,
    per_platform: dict | None = None,
    attestation: bool = False,
) -> str:
    """Push an OCI index with one image per `os/arch` platform; `per_platform[arch]` overrides config
    fields for one platform (labels, cmd, history_extra, layer_size). Returns the index digest."""
    registry = RegistryClient(client)
    entries: list[dict] = []
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        extra = (per_platform or {}).get(arch, {})
        payload = f"{name} {tag} {arch}\n".encode() * extra.get("repeat", 50)
        app, diff = build.layer("app/hello", payload)
        history: list[dict] = [{"created": "2026-01-02T03:04:05Z", "created_by": "COPY hello /app/hello"}]
        history += [
            {"created": "2026-01-02T03:04:05Z", "created_by": f"RUN step {i}", "empty_layer": True}
            for i in range(extra.get("history_extra", 0))
        ]
        config = build.image_config(
            os=os_name,
            architecture=arch,
            variant="",
            created=extra.get("created", "2026-01-02T03:04:06Z"),
            labels={**(labels or {}), **extra.get("labels", {})},
            history=history,
            diff_ids=[diff],
            cmd=extra.get("cmd", ["/app/hello"]),
        )
        raw = build.image_manifest(config=config, layers=[app])
        for blob in (config, app):
            registry.push_blob(name, blob)
        response = registry.push_manifest(name, build.sha256(raw), raw, media_types.OCI_MANIFEST)
        assert response.status_code == 201, response.content
        entries.append(
            {"digest": build.sha256(raw), "size": len(raw), "platform": {"os": os_name, "architecture": arch}}
        )
    if attestation:
        config = build.attestation_config()
        statement = build.provenance_statement(entries[0]["digest"], "test://insights")
        raw = build.image_manifest(config=config, layers=[statement], layer_type=build.IN_TOTO)
        for blob in (config, statement):
            registry.push_blob(name, blob)
        assert registry.push_manifest(name, build.sha256(raw), raw, media_types.OCI_MANIFEST).status_code == 201
        entries.append(
            {
                "digest": build.sha256(raw),
                "size": len(raw),
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {
                    "vnd.docker.reference.digest": entries[0]["digest"],
                    "vnd.docker.reference.type": "attestation-manifest",
                },
            }
        )
    index = build.index(entries)
    response = registry.push_manifest(name, tag, index, media_types.OCI_INDEX)
    assert response.status_code == 201, response.content
    return build.sha256(index)


def dumps(value) -> str:
    return json.dumps(value, sort_keys=True)
