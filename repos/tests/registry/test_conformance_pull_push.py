"""OCI distribution spec v1.1 conformance, part 1: pull and push (the endpoints' MUSTs, written from the
spec's text, through the Django test client with real filesystem storage)."""

from __future__ import annotations

import pytest

from repos.models import Blob, RepositoryBlob, UploadSession
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
    same_headers(
        get,
        head,
        names=(
            "Content-Type",
            "Content-Length",
            "Docker-Content-Digest",
            "ETag",
            "Accept-Ranges",
            "Content-Disposition",
        ),
    )
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
    second = http.patch(first["Location"], data=data[400:900], content_type=OCTET, headers={"Content-Range": "400-899"})
    assert second.status_code == 202 and second["Range"] == "0-899"
    done = http.put(
        f"{second['Location']}?digest={digest_of(data)}",
        data=data[900:],
        content_type=OCTET,
        headers={"Content-Range": "900-999"},
    )
    assert done.status_code == 201, done.content
    assert b"".join(http.get(f"/v2/{NAME}/blobs/{digest_of(data)}").streaming_content) == data


@pytest.mark.parametrize("content_range", ["0-3", "2-9", "20-29"], ids=["overlap-start", "overlap", "gap"])
def test_out_of_order_or_overlapping_chunk_is_416_with_range(registry, http, content_range):
    location = http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    http.patch(location, data=b"0123456789", content_type=OCTET, headers={"Content-Range": "0-9"})
    start, end = (int(x) for x in content_range.split("-"))
    response = http.patch(
        location, data=b"x" * (end - start + 1), content_type=OCTET, headers={"Content-Range": content_range}
    )
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
    _, _, response = push_artifact(
        registry, subject=(subject_raw, subject_digest), artifact_type="application/vnd.example.sbom", payload=b"sbom"
    )
    assert response["OCI-Subject"] == subject_digest


def test_subject_need_not_exist(registry):
    ghost = b'{"ghost": true}'
    _, digest, response = push_artifact(
        registry, subject=(ghost, digest_of(ghost)), artifact_type="application/vnd.example.sig", payload=b"sig"
    )
    assert response.status_code == 201 and response["OCI-Subject"] == digest_of(ghost)


def test_push_manifest_by_digest_must_match_body(registry):
    raw, _, _ = push_image(registry)
    response = registry.push_manifest(NAME, digest_of(b"other"), raw, media_types.OCI_MANIFEST)
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"
