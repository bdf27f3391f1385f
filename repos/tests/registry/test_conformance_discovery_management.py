"""OCI distribution spec v1.1 conformance, part 2: content discovery, content management, and every error
code of the spec's table reachable from a request."""

from __future__ import annotations

import pytest

from repos.models import Image, ImageManifest, Manifest, Tag
from repos.oci import media_types
from repos.tests.registry.client import error_code
from repos.tests.registry.conformance import (  # noqa: F401
    ALL_TYPES,
    AMD64,
    ARM64,
    EMPTY_CONFIG,
    NAME,
    OCTET,
    next_link,
    push_artifact,
    push_image,
    push_index,
    same_headers,
)
from tests.support import content as f
from tests.support.content import digest_of
from tests.support.factories import RepositoryFactory

# --- content discovery --------------------------------------------------------------------------


def _tag_all(registry, tags):
    raw, _, _ = push_image(registry)
    for tag in tags:
        assert registry.push_manifest(NAME, tag, raw, media_types.OCI_MANIFEST).status_code == 201


def test_tags_list_is_lexical_and_paginated(registry, http):
    tags = ["b", "a", "B", "a-1", "a.1", "a_1", "0"]
    _tag_all(registry, tags)
    everything = http.get(f"/v2/{NAME}/tags/list")
    assert everything.json() == {"name": NAME, "tags": sorted(tags)}
    assert "Link" not in everything
    page = http.get(f"/v2/{NAME}/tags/list?n=3")
    assert page.json()["tags"] == sorted(tags)[:3]
    assert page["Link"] == f'</v2/{NAME}/tags/list?n=3&last={sorted(tags)[2]}>; rel="next"'
    rest = http.get(next_link(page))
    assert rest.json()["tags"] == sorted(tags)[3:6]
    assert http.get(next_link(rest)).json()["tags"] == sorted(tags)[6:]
    after = http.get(f"/v2/{NAME}/tags/list?last=a")
    assert after.json()["tags"] == [t for t in sorted(tags) if t > "a"]
    assert http.get(f"/v2/{NAME}/tags/list?n=0").json()["tags"] == []


def test_a_huge_n_is_capped(registry, http, settings):
    settings.REGISTRY_CATALOG_MAX_PAGE = 2
    _tag_all(registry, ["x", "y", "z"])
    response = http.get(f"/v2/{NAME}/tags/list?n=99999999999999999999")
    assert response.json()["tags"] == ["x", "y"]
    assert "n=2" in response["Link"]


def test_catalog_is_lexical_over_full_names(registry, http):
    RepositoryFactory(key="docker-local-b")
    for name in ("docker-local/z", "docker-local-b/a", "docker-local/a/b"):
        registry.push_blob(name, b"config")
        config = f.image_config()
        registry.push_blob(name, config)
        raw = f.image_manifest(config=config, layers=[])
        assert registry.push_manifest(name, "v1", raw, media_types.DOCKER_MANIFEST_V2).status_code == 201
    expected = sorted(["docker-local/z", "docker-local-b/a", "docker-local/a/b"])
    assert expected[0] == "docker-local-b/a"  # '-' sorts before '/'
    assert http.get("/v2/_catalog").json() == {"repositories": expected}
    first = http.get("/v2/_catalog?n=2")
    assert first.json()["repositories"] == expected[:2]
    following = http.get(next_link(first))
    assert following.json()["repositories"] == expected[2:]
    assert "Link" not in following


def test_referrers_list_and_filter(registry, http):
    subject = push_image(registry, tag="v1")[:2]
    _, sbom, _ = push_artifact(
        registry,
        subject=subject,
        artifact_type="application/vnd.example.sbom",
        payload=b"sbom",
        annotations={"org.opencontainers.image.created": "2026-01-01"},
    )
    _, sig, _ = push_artifact(registry, subject=subject, artifact_type="application/vnd.example.sig", payload=b"sig")
    _, untyped, _ = push_artifact(registry, subject=subject, artifact_type=None, payload=b"untyped")
    response = http.get(f"/v2/{NAME}/referrers/{subject[1]}")
    assert response.status_code == 200 and response["Content-Type"] == media_types.OCI_INDEX
    body = response.json()
    assert body["schemaVersion"] == 2 and body["mediaType"] == media_types.OCI_INDEX
    by_digest = {d["digest"]: d for d in body["manifests"]}
    assert set(by_digest) == {sbom, sig, untyped}
    assert by_digest[sbom]["artifactType"] == "application/vnd.example.sbom"
    assert by_digest[sbom]["annotations"] == {"org.opencontainers.image.created": "2026-01-01"}
    assert by_digest[sig]["mediaType"] == media_types.OCI_MANIFEST and by_digest[sig]["size"] > 0
    # Without artifactType the config's media type stands in (image spec).
    assert by_digest[untyped]["artifactType"] == media_types.OCI_EMPTY
    assert "OCI-Filters-Applied" not in response
    filtered = http.get(f"/v2/{NAME}/referrers/{subject[1]}?artifactType=application/vnd.example.sig")
    assert [d["digest"] for d in filtered.json()["manifests"]] == [sig]
    assert filtered["OCI-Filters-Applied"] == "artifactType"
    assert http.delete(f"/v2/{NAME}/manifests/{sig}").status_code == 202
    remaining = http.get(f"/v2/{NAME}/referrers/{subject[1]}").json()["manifests"]
    assert {d["digest"] for d in remaining} == {sbom, untyped}


def test_referrers_of_unknown_subject_is_an_empty_list(registry, http):
    push_image(registry)
    for name in (NAME, "docker-local/never-pushed"):
        response = http.get(f"/v2/{name}/referrers/{digest_of(b'nothing refers to me')}")
        assert response.status_code == 200 and response.json()["manifests"] == []


def test_referrers_with_invalid_digest_is_400(registry, http):
    response = http.get(f"/v2/{NAME}/referrers/sha256:short")
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"


# --- content management -------------------------------------------------------------------------


def test_delete_tag_keeps_the_manifest(registry, http):
    raw, digest, _ = push_image(registry, tag="v1")
    assert http.delete(f"/v2/{NAME}/manifests/v1").status_code == 202
    assert http.get(f"/v2/{NAME}/manifests/v1").status_code == 404
    assert http.get(f"/v2/{NAME}/manifests/{digest}").content == raw
    again = http.delete(f"/v2/{NAME}/manifests/v1")
    assert again.status_code == 404 and error_code(again) == "MANIFEST_UNKNOWN"


def test_delete_manifest_by_digest_removes_its_tags(registry, http):
    _, digest, _ = push_image(registry, tag="v1")
    assert http.delete(f"/v2/{NAME}/manifests/{digest}").status_code == 202
    for reference in (digest, "v1"):
        assert http.get(f"/v2/{NAME}/manifests/{reference}").status_code == 404
    assert http.get(f"/v2/{NAME}/tags/list").json()["tags"] == []


def test_delete_index_leaves_children_referenced_elsewhere(registry, http):
    amd, amd_digest, _ = push_image(registry, arch="amd64")
    arm, arm_digest, _ = push_image(registry, arch="arm64")
    riscv, riscv_digest, _ = push_image(registry, arch="riscv64", tag="riscv-own-tag")
    _, index_digest = push_index(
        registry, "v1", [(amd, AMD64), (arm, ARM64), (riscv, {"os": "linux", "architecture": "riscv64"})]
    )
    push_index(registry, "amd-only", [(amd, AMD64)])
    assert http.delete(f"/v2/{NAME}/manifests/{index_digest}").status_code == 202
    assert http.get(f"/v2/{NAME}/manifests/{index_digest}").status_code == 404
    assert http.get(f"/v2/{NAME}/manifests/{arm_digest}").status_code == 404  # only the index had it
    assert http.get(f"/v2/{NAME}/manifests/{amd_digest}").status_code == 200  # another index lists it
    assert http.get(f"/v2/{NAME}/manifests/{riscv_digest}").status_code == 200  # it has its own tag
    assert set(http.get(f"/v2/{NAME}/tags/list").json()["tags"]) == {
        "amd-only",
        "amd-only-linux-amd64",
        "riscv-own-tag",
    }


def test_a_manifest_an_index_lists_cannot_be_deleted_alone(registry, http):
    amd, amd_digest, _ = push_image(registry, arch="amd64")
    _, index_digest = push_index(registry, "v1", [(amd, AMD64)])
    response = http.delete(f"/v2/{NAME}/manifests/{amd_digest}")
    assert response.status_code == 405 and error_code(response) == "UNSUPPORTED"
    assert index_digest in response.json()["errors"][0]["message"]
    assert http.get(f"/v2/{NAME}/manifests/{amd_digest}").status_code == 200


def test_delete_blob(registry, http):
    data = b"loose blob"
    digest = registry.push_blob(NAME, data)
    assert http.delete(f"/v2/{NAME}/blobs/{digest}").status_code == 202
    gone = http.get(f"/v2/{NAME}/blobs/{digest}")
    assert gone.status_code == 404 and error_code(gone) == "BLOB_UNKNOWN"
    again = http.delete(f"/v2/{NAME}/blobs/{digest}")
    assert again.status_code == 404 and error_code(again) == "BLOB_UNKNOWN"


def test_a_blob_a_manifest_uses_is_deleted_after_the_manifest(registry, http):
    _, digest, layer = push_image(registry, tag="v1")
    refused = http.delete(f"/v2/{NAME}/blobs/{layer}")
    assert refused.status_code == 405 and error_code(refused) == "UNSUPPORTED"
    assert http.delete(f"/v2/{NAME}/manifests/{digest}").status_code == 202
    assert http.delete(f"/v2/{NAME}/blobs/{layer}").status_code == 202


def test_immutable_tags_cannot_move_or_go(registry, http, repository):
    repository.tag_immutability = True
    repository.save()
    raw, digest, _ = push_image(registry, tag="v1")
    assert registry.push_manifest(NAME, "v1", raw, media_types.OCI_MANIFEST).status_code == 201  # same: fine
    other, _, _ = push_image(registry, arch="arm64")
    moved = registry.push_manifest(NAME, "v1", other, media_types.OCI_MANIFEST)
    assert moved.status_code == 403 and error_code(moved) == "DENIED"
    for reference in ("v1", digest):
        refused = http.delete(f"/v2/{NAME}/manifests/{reference}")
        assert refused.status_code == 405 and error_code(refused) == "UNSUPPORTED"
    assert http.get(f"/v2/{NAME}/manifests/v1").content == raw


def test_deletes_leave_other_images_alone(registry, http):
    raw, digest, layer = push_image(registry, tag="v1")
    push_image(registry, tag="v1", name="docker-local/twin")
    assert http.delete(f"/v2/{NAME}/manifests/{digest}").status_code == 202
    assert http.get("/v2/docker-local/twin/manifests/v1").content == raw
    assert ImageManifest.objects.filter(image__name="twin").count() == 1
    # The layer is still used by the twin, in the same repository.
    assert http.delete(f"/v2/{NAME}/blobs/{layer}").status_code == 405


# --- the spec's error codes, each from a request ------------------------------------------------


def _blob_upload_invalid(registry, http):
    location = http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    return http.patch(location, data=b"abc", content_type=OCTET, headers={"Content-Range": "5-7"})


def _size_invalid(registry, http):
    location = http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    # Content-Range announces ten bytes, the body (Content-Length) has five.
    return http.patch(location, data=b"short", content_type=OCTET, headers={"Content-Range": "0-9"})


def _manifest_unknown(registry, http):
    push_image(registry, tag="v1")
    return http.get(f"/v2/{NAME}/manifests/absent")


def _manifest_blob_unknown(registry, http):
    config = f.image_config()
    registry.push_blob(NAME, config)
    raw = f.image_manifest(config=config, layers=[b"absent"])
    return registry.push_manifest(NAME, "v1", raw, media_types.DOCKER_MANIFEST_V2)


def _too_many_requests(registry, http):
    from django.conf import settings

    settings.REGISTRY_MAX_OPEN_UPLOADS = 1
    http.post(f"/v2/{NAME}/blobs/uploads/")
    return http.post(f"/v2/{NAME}/blobs/uploads/")


def _unsupported(registry, http):
    return http.generic("PATCH", f"/v2/{NAME}/manifests/v1")


def _denied(registry, http):
    from repos.models import Repository

    Repository.objects.filter(key="docker-local").update(tag_immutability=True)
    push_image(registry, tag="v1")
    other = push_image(registry, arch="arm64")[0]
    return registry.push_manifest(NAME, "v1", other, media_types.OCI_MANIFEST)


def _unauthorized(registry, http):
    from django.test import Client

    push_image(registry, tag="v1")
    anonymous = Client().get(f"/v2/{NAME}/manifests/v1")  # docker-local is private
    assert anonymous["WWW-Authenticate"].startswith("Bearer realm=")
    return anonymous


ERROR_SCENARIOS = {
    "BLOB_UNKNOWN": (404, lambda r, h: h.get(f"/v2/{NAME}/blobs/{digest_of(b'x')}")),
    "BLOB_UPLOAD_INVALID": (416, _blob_upload_invalid),
    "BLOB_UPLOAD_UNKNOWN": (404, lambda r, h: h.get(f"/v2/{NAME}/blobs/uploads/{'0' * 32}")),
    "DIGEST_INVALID": (
        400,
        lambda r, h: h.post(f"/v2/{NAME}/blobs/uploads/?digest={digest_of(b'a')}", data=b"b", content_type=OCTET),
    ),
    "MANIFEST_BLOB_UNKNOWN": (400, _manifest_blob_unknown),
    "MANIFEST_INVALID": (400, lambda r, h: r.push_manifest(NAME, "v1", b"{nope", media_types.OCI_MANIFEST)),
    "MANIFEST_UNKNOWN": (404, _manifest_unknown),
    "NAME_INVALID": (400, lambda r, h: h.get("/v2/docker-local/Upper/tags/list")),
    "NAME_UNKNOWN": (404, lambda r, h: h.get("/v2/no-such-repository/app/tags/list")),
    "SIZE_INVALID": (400, _size_invalid),
    "UNAUTHORIZED": (401, _unauthorized),
    "DENIED": (403, _denied),
    "UNSUPPORTED": (405, _unsupported),
    "TOOMANYREQUESTS": (429, _too_many_requests),
}


@pytest.mark.parametrize("code", sorted(ERROR_SCENARIOS))
def test_error_code_is_reachable(registry, http, settings, code):
    status, scenario = ERROR_SCENARIOS[code]
    response = scenario(registry, http)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["errors"][0]["code"] == code
    assert set(body["errors"][0]) == {"code", "message", "detail"}
    assert response["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_oversized_manifest_is_413_size_invalid(registry, settings):
    body = b"{" + b" " * settings.REGISTRY_MAX_MANIFEST_BYTES + b"}"
    response = registry.push_manifest(NAME, "huge", body, media_types.OCI_MANIFEST)
    assert response.status_code == 413 and error_code(response) == "SIZE_INVALID"
    assert not Manifest.objects.exists() and not Image.objects.exists() and not Tag.objects.exists()


@pytest.mark.parametrize(
    "name", ["docker-local/" + "a" * 250, "docker-local/a//b", "docker-local/-a", "docker-local/a..b", "docker-local/A"]
)
def test_names_outside_the_grammar_are_name_invalid(registry, http, name):
    response = http.get(f"/v2/{name}/tags/list")
    assert response.status_code == 400 and error_code(response) == "NAME_INVALID"


@pytest.mark.parametrize("tag", ["x" * 129, "-x", ".x"])
def test_tags_outside_the_grammar(registry, http, tag):
    raw, _, _ = push_image(registry)
    pushed = registry.push_manifest(NAME, tag, raw, media_types.OCI_MANIFEST)
    assert pushed.status_code == 400 and error_code(pushed) == "MANIFEST_INVALID"
    pulled = http.get(f"/v2/{NAME}/manifests/{tag}")
    assert pulled.status_code == 404 and error_code(pulled) == "MANIFEST_UNKNOWN"


def test_a_128_character_tag_is_fine(registry, http):
    raw, _, _ = push_image(registry)
    assert registry.push_manifest(NAME, "t" * 128, raw, media_types.OCI_MANIFEST).status_code == 201


def test_invalid_page_size_is_unsupported(registry, http):
    push_image(registry, tag="v1")
    response = http.get(f"/v2/{NAME}/tags/list?n=-1")
    assert response.status_code == 400 and error_code(response) == "UNSUPPORTED"
