"""Manifest push/pull, per-platform tags and manifest errors through /v2/."""

import json

import pytest

from repos.models import Image, Manifest, ManifestLayer, Tag
from repos.oci import media_types
from repos.tests.registry.client import error_code
from tests.support import content as f

NAME = "docker-local/multiarch-image"


def _push_image(registry, *, arch: str, variant: str | None = None, oci: bool = False) -> tuple[bytes, str]:
    config = f.image_config(architecture=arch, variant=variant)
    layer = f"layer for {arch}{variant or ''}".encode()
    registry.push_blob(NAME, config)
    registry.push_blob(NAME, layer)
    raw = f.image_manifest(config=config, layers=[layer], oci=oci)
    media_type = media_types.OCI_MANIFEST if oci else media_types.DOCKER_MANIFEST_V2
    response = registry.push_manifest(NAME, f.digest_of(raw), raw, media_type)
    assert response.status_code == 201, response.content
    return raw, f.digest_of(raw)


def _push_index(registry, tag: str, platforms, oci: bool = False) -> bytes:
    children = []
    for platform in platforms:
        raw, _ = _push_image(registry, arch=platform["architecture"], variant=platform.get("variant"), oci=oci)
        children.append((raw, platform))
    index = f.index(children=children, oci=oci)
    media_type = media_types.OCI_INDEX if oci else media_types.DOCKER_MANIFEST_LIST_V2
    response = registry.push_manifest(NAME, tag, index, media_type)
    assert response.status_code == 201, response.content
    assert response["Docker-Content-Digest"] == f.digest_of(index)
    return index


AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}
ARMV7 = {"os": "linux", "architecture": "arm", "variant": "v7"}
ATTESTATION = {"os": "unknown", "architecture": "unknown"}


@pytest.mark.parametrize("oci", [False, True])
def test_index_push_derives_platform_tags(registry, oci):
    index = _push_index(registry, "tag", [AMD64, ARM64, ARMV7], oci=oci)
    assert registry.tags(NAME) == ["tag", "tag-linux-amd64", "tag-linux-arm-v7", "tag-linux-arm64"]
    derived = Tag.objects.get(name="tag-linux-arm64")
    assert derived.derived_from.name == "tag"
    assert derived.manifest.architecture == "arm64"
    response = registry.get_manifest(NAME, "tag")
    assert response.content == index
    assert response["Docker-Content-Digest"] == f.digest_of(index)


def test_attestation_children_get_no_tag(registry):
    _push_index(registry, "v1", [AMD64, ATTESTATION], oci=True)
    assert registry.tags(NAME) == ["v1", "v1-linux-amd64"]


def test_repush_moves_derived_tags(registry):
    _push_index(registry, "latest", [AMD64, ARM64])
    _push_index(registry, "latest", [AMD64, ARMV7])
    tags = registry.tags(NAME)
    assert "latest-linux-arm64" not in tags
    assert {"latest-linux-amd64", "latest-linux-arm-v7"} <= set(tags)


def test_manifest_bytes_and_headers_round_trip(registry, client):
    raw, digest = _push_image(registry, arch="amd64")
    registry.push_manifest(NAME, "single", raw, media_types.DOCKER_MANIFEST_V2)
    for reference in ("single", digest):
        response = registry.get_manifest(NAME, reference)
        assert response.status_code == 200
        assert response.content == raw
        assert response["Content-Type"] == media_types.DOCKER_MANIFEST_V2
        assert response["Docker-Content-Digest"] == digest
        head = client.head(f"/v2/{NAME}/manifests/{reference}")
        assert head.status_code == 200
        assert head["Content-Length"] == str(len(raw)) and head["Docker-Content-Digest"] == digest


def test_layers_keep_history(registry):
    _, digest = _push_image(registry, arch="amd64")
    layer = ManifestLayer.objects.get(manifest__digest=digest)
    assert layer.created_by == "COPY hello.txt / # buildkit"
    manifest = Manifest.objects.get(digest=digest)
    assert (manifest.os, manifest.architecture) == ("linux", "amd64")
    assert manifest.config["labels"] == {"team": "core"}


def test_client_without_list_support_gets_amd64(registry):
    _push_index(registry, "multi", [ARM64, AMD64])
    response = registry.get_manifest(NAME, "multi", accept=media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 200
    assert response["Content-Type"] == media_types.DOCKER_MANIFEST_V2
    assert Manifest.objects.get(digest=response["Docker-Content-Digest"]).architecture == "amd64"


def test_missing_blob_is_manifest_blob_unknown(registry):
    config = f.image_config()
    registry.push_blob(NAME, config)
    raw = f.image_manifest(config=config, layers=[b"never pushed"])
    response = registry.push_manifest(NAME, "broken", raw, media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 400 and error_code(response) == "MANIFEST_BLOB_UNKNOWN"
    assert not Manifest.objects.exists() and not Tag.objects.exists()


def test_missing_child_is_manifest_blob_unknown(registry):
    child = f.image_manifest(config=f.image_config(), layers=[])
    response = registry.push_manifest(
        NAME, "list", f.index(children=[(child, AMD64)]), media_types.DOCKER_MANIFEST_LIST_V2
    )
    assert response.status_code == 400 and error_code(response) == "MANIFEST_BLOB_UNKNOWN"
    assert not Manifest.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"schemaVersion": 1}).encode(),
        json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_MANIFEST}).encode(),
    ],
)
def test_invalid_manifest_is_manifest_invalid(registry, body):
    response = registry.push_manifest(NAME, "bad", body, media_types.OCI_MANIFEST)
    assert response.status_code == 400 and error_code(response) == "MANIFEST_INVALID"
    assert not Manifest.objects.exists() and not Image.objects.exists()


def test_digest_reference_must_match_bytes(registry):
    raw, _ = _push_image(registry, arch="amd64")
    response = registry.push_manifest(NAME, f.digest_of(b"other"), raw, media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"


def test_oversized_manifest_is_413(registry, settings):
    body = b" " * (settings.REGISTRY_MAX_MANIFEST_BYTES + 1)
    response = registry.push_manifest(NAME, "huge", body, media_types.OCI_MANIFEST)
    assert response.status_code == 413


def test_four_mib_manifest_is_accepted(registry, settings):
    config = f.image_config()
    registry.push_blob(NAME, config)
    raw = f.image_manifest(config=config, layers=[])
    padded = raw[:-1] + b" " * (settings.REGISTRY_MAX_MANIFEST_BYTES - len(raw)) + raw[-1:]
    assert len(padded) == settings.REGISTRY_MAX_MANIFEST_BYTES
    response = registry.push_manifest(NAME, "big", padded, media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 201, response.content


def test_unknown_manifest_and_invalid_tag(registry, client):
    _push_image(registry, arch="amd64")
    response = registry.get_manifest(NAME, "nope")
    assert response.status_code == 404 and error_code(response) == "MANIFEST_UNKNOWN"
    response = registry.push_manifest(NAME, "x" * 129, b"{}", media_types.OCI_MANIFEST)
    assert response.status_code == 400 and error_code(response) == "MANIFEST_INVALID"


def test_catalog_and_tag_pagination(registry, client):
    _push_index(registry, "a", [AMD64])
    first = client.get(f"/v2/{NAME}/tags/list?n=1")
    assert first.json()["tags"] == ["a"]
    assert 'rel="next"' in first["Link"]
    second = client.get(f"/v2/{NAME}/tags/list?n=1&last=a")
    assert second.json()["tags"] == ["a-linux-amd64"]
    catalog = client.get("/v2/_catalog")
    assert catalog.json()["repositories"] == [NAME]


def test_delete_tag_and_manifest(registry, client):
    raw, digest = _push_image(registry, arch="amd64")
    registry.push_manifest(NAME, "gone", raw, media_types.DOCKER_MANIFEST_V2)
    assert client.delete(f"/v2/{NAME}/manifests/gone").status_code == 202
    assert registry.get_manifest(NAME, "gone").status_code == 404
    assert client.delete(f"/v2/{NAME}/manifests/{digest}").status_code == 202
    assert registry.get_manifest(NAME, digest).status_code == 404
