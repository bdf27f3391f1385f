"""Conformance with the OCI distribution spec v1.1, section by section: pull, push, content
discovery, content management, and every error code of the spec's table reachable from a request.

Written from the spec's text (the "MUST"s of each endpoint), against the Django test client with
real filesystem storage. Requests go through `registry.client`, which carries the caller's
credentials.
"""
from __future__ import annotations

import json

import pytest

from repos.models import Blob, Image, ImageManifest, Manifest, RepositoryBlob, Tag, UploadSession
from repos.oci import media_types
from repos.tests import factories as f
from repos.tests.factories import RepositoryFactory, digest_of
from repos.tests.registry.client import error_code

NAME = "docker-local/conformance"
OCTET = "application/octet-stream"
EMPTY_CONFIG = b"{}"
ALL_TYPES = ", ".join(sorted(media_types.MANIFEST_TYPES))
AMD64 = {"os": "linux", "architecture": "amd64"}
ARM64 = {"os": "linux", "architecture": "arm64"}


@pytest.fixture
def http(registry):
    return registry.client


def push_image(registry, *, arch: str = "amd64", tag: str | None = None, name: str = NAME, salt: str = ""):
    """Config + one layer + an OCI manifest; returns (raw, digest, layer digest)."""
    config = f.image_config(architecture=arch)
    layer = f"layer {arch} {salt}".encode()
    registry.push_blob(name, config)
    registry.push_blob(name, layer)
    raw = f.image_manifest(config=config, layers=[layer], oci=True)
    response = registry.push_manifest(name, tag or digest_of(raw), raw, media_types.OCI_MANIFEST)
    assert response.status_code == 201, response.content
    return raw, digest_of(raw), digest_of(layer)


def push_index(registry, tag: str, children: list[tuple[bytes, dict]], name: str = NAME):
    raw = f.index(children=children, oci=True)
    response = registry.push_manifest(name, tag, raw, media_types.OCI_INDEX)
    assert response.status_code == 201, response.content
    return raw, digest_of(raw)


def push_artifact(registry, *, subject: tuple[bytes, str], artifact_type: str | None, payload: bytes,
                  annotations: dict | None = None, name: str = NAME):
    """An OCI 1.1 artifact: empty config, one layer, a subject."""
    registry.push_blob(name, EMPTY_CONFIG)
    registry.push_blob(name, payload)
    subject_raw, subject_digest = subject
    body = {
        "schemaVersion": 2,
        "mediaType": media_types.OCI_MANIFEST,
        "config": {"mediaType": media_types.OCI_EMPTY, "digest": digest_of(EMPTY_CONFIG), "size": 2},
        "layers": [{"mediaType": "application/vnd.example.sig", "digest": digest_of(payload), "size": len(payload)}],
        "subject": {"mediaType": media_types.OCI_MANIFEST, "digest": subject_digest, "size": len(subject_raw)},
    }
    if artifact_type:
        body["artifactType"] = artifact_type
    if annotations:
        body["annotations"] = annotations
    raw = json.dumps(body).encode()
    response = registry.push_manifest(name, digest_of(raw), raw, media_types.OCI_MANIFEST)
    assert response.status_code == 201, response.content
    return raw, digest_of(raw), response


def next_link(response) -> str:
    """The URL of a `Link: <url>; rel="next"` header."""
    url, _, rel = response["Link"].partition(";")
    assert rel.strip() == 'rel="next"'
    return url.strip().strip("<>")


def same_headers(get, head, names=("Content-Type", "Content-Length", "Docker-Content-Digest", "ETag")):
    for header in names:
        assert head.get(header) == get.get(header), header


# --- pull ---------------------------------------------------------------------------------------


def test_pull_manifest_by_tag_and_digest(registry, http):
    raw, digest, _ = push_image(registry, tag="v1")
    for reference in ("v1", digest):
        response = http.get(f"/v2/{NAME}/manifests/{reference}", headers={"Accept": ALL_TYPES})
        assert response.status_code == 200
        assert response.content == raw
        assert response["Content-Type"] == media_types.OCI_MANIFEST
        assert response["Docker-Content-Digest"] == digest


def test_head_manifest_answers_the_get_headers_without_body(registry, http):
    _, digest, _ = push_image(registry, tag="v1")
    push_image(registry, arch="arm64")
    for reference in ("v1", digest):
        get = http.get(f"/v2/{NAME}/manifests/{reference}")
        head = http.head(f"/v2/{NAME}/manifests/{reference}")
        assert head.status_code == 200 and head.content == b""
        same_headers(get, head)
    missing = http.head(f"/v2/{NAME}/manifests/nope")
    assert missing.status_code == 404 and missing.content == b""


def test_head_after_negotiation_matches_get(registry, http):
    amd, _, _ = push_image(registry, arch="amd64")
    arm, _, _ = push_image(registry, arch="arm64")
    push_index(registry, "multi", [(arm, ARM64), (amd, AMD64)])
    accept = {"Accept": media_types.OCI_MANIFEST}
    get = http.get(f"/v2/{NAME}/manifests/multi", headers=accept)
    head = http.head(f"/v2/{NAME}/manifests/multi", headers=accept)
    assert get["Docker-Content-Digest"] == digest_of(amd) == head["Docker-Content-Digest"]
    same_headers(get, head)


def test_list_client_gets_the_index_others_the_amd64_image(registry, http):
    amd, _, _ = push_image(registry, arch="amd64")
    arm, _, _ = push_image(registry, arch="arm64")
    index, index_digest = push_index(registry, "multi", [(arm, ARM64), (amd, AMD64)])
    listing = http.get(f"/v2/{NAME}/manifests/multi", headers={"Accept": ALL_TYPES})
    assert listing.content == index and listing["Docker-Content-Digest"] == index_digest
    plain = http.get(f"/v2/{NAME}/manifests/multi", headers={"Accept": f"{media_types.OCI_MANIFEST};q=0.9"})
    assert plain.content == amd and plain["Content-Type"] == media_types.OCI_MANIFEST


def test_pull_blob_get_head_and_range(registry, http):
    data = bytes(range(256)) * 64
    digest = registry.push_blob(NAME, data)
    get = http.get(f"/v2/{NAME}/blobs/{digest}")
    assert get.status_code == 200 and b"".join(get.streaming_content) == data
    head = http.head(f"/v2/{NAME}/blobs/{digest}")
    assert head.status_code == 200 and head.content == b""
    same_headers(get, head, names=("Content-Type", "Content-Length", "Docker-Content-Digest", "ETag",
                                   "Accept-Ranges", "Content-Disposition"))
    partial = http.get(f"/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=-10"})
    assert partial.status_code == 206 and b"".join(partial.streaming_content) == data[-10:]


def test_pull_unknown_content(registry, http):
    push_image(registry, tag="v1")
    missing_blob = http.get(f"/v2/{NAME}/blobs/{digest_of(b'never')}")
    assert missing_blob.status_code == 404 and error_code(missing_blob) == "BLOB_UNKNOWN"
    assert http.head(f"/v2/{NAME}/blobs/{digest_of(b'never')}").status_code == 404
    missing = http.get(f"/v2/{NAME}/manifests/{digest_of(b'never')}")
    assert missing.status_code == 404 and error_code(missing) == "MANIFEST_UNKNOWN"
    unknown_repository = http.get("/v2/nowhere/conformance/manifests/v1")
    assert unknown_repository.status_code == 404 and error_code(unknown_repository) == "NAME_UNKNOWN"


# --- push ---------------------------------------------------------------------------------------


def test_push_post_then_put(registry, http):
    data = b"monolithic in two requests"
    start = http.post(f"/v2/{NAME}/blobs/uploads/")
    assert start.status_code == 202 and start["Location"]
    done = http.put(f"{start['Location']}?digest={digest_of(data)}", data=data, content_type=OCTET)
    assert done.status_code == 201
    assert done["Location"].endswith(f"/blobs/{digest_of(data)}")
    assert b"".join(http.get(done["Location"]).streaming_content) == data


def test_push_single_post(registry, http):
    data = b"one request"
    response = http.post(f"/v2/{NAME}/blobs/uploads/?digest={digest_of(data)}", data=data, content_type=OCTET)
    assert response.status_code == 201 and response["Docker-Content-Digest"] == digest_of(data)


def test_push_chunks_with_progress_and_final_chunk_on_put(registry, http):
    data = b"abcdefghij" * 100
    location = http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    first = http.patch(location, data=data[:400], content_type=OCTET, headers={"Content-Range": "0-399"})
    assert first.status_code == 202 and first["Range"] == "0-399" and first["Location"]
    status = http.get(first["Location"])
    assert status.status_code == 204 and status["Range"] == "0-399"
    assert status["Docker-Upload-UUID"] in first["Location"]
    second = http.patch(first["Location"], data=data[400:900], content_type=OCTET,
                        headers={"Content-Range": "400-899"})
    assert second.status_code == 202 and second["Range"] == "0-899"
    done = http.put(f"{second['Location']}?digest={digest_of(data)}", data=data[900:], content_type=OCTET,
                    headers={"Content-Range": "900-999"})
    assert done.status_code == 201, done.content
    assert b"".join(http.get(f"/v2/{NAME}/blobs/{digest_of(data)}").streaming_content) == data


@pytest.mark.parametrize("content_range", ["0-3", "2-9", "20-29"], ids=["overlap-start", "overlap", "gap"])
def test_out_of_order_or_overlapping_chunk_is_416_with_range(registry, http, content_range):
    location = http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    http.patch(location, data=b"0123456789", content_type=OCTET, headers={"Content-Range": "0-9"})
    start, end = (int(x) for x in content_range.split("-"))
    response = http.patch(location, data=b"x" * (end - start + 1), content_type=OCTET,
                          headers={"Content-Range": content_range})
    assert response.status_code == 416
    assert response["Range"] == "0-9" and response["Location"]
    assert error_code(response) == "BLOB_UPLOAD_INVALID"
    assert http.get(location)["Range"] == "0-9"  # the refused chunk left nothing


def test_cancelled_upload_is_gone(registry, http):
    location = http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    http.patch(location, data=b"partial", content_type=OCTET)
    assert http.delete(location).status_code == 204
    gone = http.get(location)
    assert gone.status_code == 404 and error_code(gone) == "BLOB_UPLOAD_UNKNOWN"
    assert not UploadSession.objects.exists()


def test_cross_repository_mount(registry, http):
    data = b"mount me"
    registry.push_blob("docker-local/source", data)
    mounted = http.post(f"/v2/{NAME}/blobs/uploads/?mount={digest_of(data)}&from=docker-local/source")
    assert mounted.status_code == 201 and mounted["Location"].endswith(digest_of(data))
    RepositoryFactory(key="docker-target")
    across = http.post(f"/v2/docker-target/app/blobs/uploads/?mount={digest_of(data)}&from=docker-local/source")
    assert across.status_code == 201
    assert RepositoryBlob.objects.filter(repository__key="docker-target", blob__digest=digest_of(data)).exists()
    assert Blob.objects.count() == 1


def test_mount_of_unknown_blob_falls_back_to_an_upload(registry, http):
    response = http.post(f"/v2/{NAME}/blobs/uploads/?mount={digest_of(b'absent')}&from=docker-local/source")
    assert response.status_code == 202 and "/blobs/uploads/" in response["Location"]
    unknown_source = http.post(f"/v2/{NAME}/blobs/uploads/?mount={digest_of(b'absent')}&from=nowhere/x")
    assert unknown_source.status_code == 202


@pytest.mark.parametrize("may_read_source", [True, False])
def test_mount_needs_read_access_to_the_source(registry, http, django_user_model, may_read_source):
    from django.test import Client

    from accounts.models import RepositoryGrant

    data = b"secret layer"
    source = RepositoryFactory(key="docker-secret")
    registry.push_blob("docker-secret/app", data)
    pusher = django_user_model.objects.create_user(username="pusher", password=None)
    RepositoryGrant.objects.create(repository=RepositoryFactory(key="docker-local"), user=pusher, permission="write")
    if may_read_source:
        RepositoryGrant.objects.create(repository=source, user=pusher, permission="read")
    caller = Client()
    caller.force_login(pusher)
    response = caller.post(f"/v2/{NAME}/blobs/uploads/?mount={digest_of(data)}&from=docker-secret/app")
    assert response.status_code == (201 if may_read_source else 202), response.content
    linked = RepositoryBlob.objects.filter(repository__key="docker-local", blob__digest=digest_of(data)).exists()
    assert linked == may_read_source


def test_mount_without_from_finds_a_readable_repository(registry, http):
    data = b"anywhere"
    registry.push_blob("docker-local/elsewhere", data)
    RepositoryFactory(key="docker-target")
    response = http.post(f"/v2/docker-target/app/blobs/uploads/?mount={digest_of(data)}")
    assert response.status_code == 201


def test_push_manifest_answers_location_and_digest(registry, http):
    config = f.image_config()
    registry.push_blob(NAME, config)
    raw = f.image_manifest(config=config, layers=[], oci=True)
    response = registry.push_manifest(NAME, "v1", raw, media_types.OCI_MANIFEST)
    assert response.status_code == 201
    assert response["Docker-Content-Digest"] == digest_of(raw)
    assert response["Location"] == f"/v2/{NAME}/manifests/{digest_of(raw)}"
    assert "OCI-Subject" not in response


def test_push_artifact_with_subject_answers_oci_subject(registry):
    subject_raw, subject_digest, _ = push_image(registry, tag="v1")
    _, _, response = push_artifact(registry, subject=(subject_raw, subject_digest),
                                   artifact_type="application/vnd.example.sbom", payload=b"sbom")
    assert response["OCI-Subject"] == subject_digest


def test_subject_need_not_exist(registry):
    ghost = b'{"ghost": true}'
    _, digest, response = push_artifact(registry, subject=(ghost, digest_of(ghost)),
                                        artifact_type="application/vnd.example.sig", payload=b"sig")
    assert response.status_code == 201 and response["OCI-Subject"] == digest_of(ghost)


def test_push_manifest_by_digest_must_match_body(registry):
    raw, _, _ = push_image(registry)
    response = registry.push_manifest(NAME, digest_of(b"other"), raw, media_types.OCI_MANIFEST)
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"


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
    _, sbom, _ = push_artifact(registry, subject=subject, artifact_type="application/vnd.example.sbom",
                               payload=b"sbom", annotations={"org.opencontainers.image.created": "2026-01-01"})
    _, sig, _ = push_artifact(registry, subject=subject, artifact_type="application/vnd.example.sig",
                              payload=b"sig")
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
    _, index_digest = push_index(registry, "v1", [(amd, AMD64), (arm, ARM64),
                                                  (riscv, {"os": "linux", "architecture": "riscv64"})])
    push_index(registry, "amd-only", [(amd, AMD64)])
    assert http.delete(f"/v2/{NAME}/manifests/{index_digest}").status_code == 202
    assert http.get(f"/v2/{NAME}/manifests/{index_digest}").status_code == 404
    assert http.get(f"/v2/{NAME}/manifests/{arm_digest}").status_code == 404  # only the index had it
    assert http.get(f"/v2/{NAME}/manifests/{amd_digest}").status_code == 200  # another index lists it
    assert http.get(f"/v2/{NAME}/manifests/{riscv_digest}").status_code == 200  # it has its own tag
    assert set(http.get(f"/v2/{NAME}/tags/list").json()["tags"]) == {
        "amd-only", "amd-only-linux-amd64", "riscv-own-tag"
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
    assert http.get(f"/v2/docker-local/twin/manifests/v1").content == raw
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
    "DIGEST_INVALID": (400, lambda r, h: h.post(f"/v2/{NAME}/blobs/uploads/?digest={digest_of(b'a')}",
                                                data=b"b", content_type=OCTET)),
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


@pytest.mark.parametrize("name", ["docker-local/" + "a" * 250, "docker-local/a//b", "docker-local/-a",
                                  "docker-local/a..b", "docker-local/A"])
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
