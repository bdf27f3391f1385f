"""Blob upload and download through /v2/ (Django test client, real filesystem storage)."""

import pytest

from repos.models import Blob, RepositoryBlob, UploadSession
from repos.tests.registry.client import error_code
from tests.support.content import digest_of

NAME = "docker-local/app"


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_base_endpoint_answers_with_api_version(client, db):
    response = client.get("/v2/")
    assert response.status_code == 200
    assert response["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_monolithic_push_then_head_and_get(registry, client):
    data = b"layer-bytes" * 1000
    digest = registry.push_blob(NAME, data)
    head = client.head(f"/v2/{NAME}/blobs/{digest}")
    assert head.status_code == 200
    assert int(head["Content-Length"]) == len(data)
    assert head["Docker-Content-Digest"] == digest
    response = client.get(f"/v2/{NAME}/blobs/{digest}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data


def test_range_request_returns_partial_content(registry, client):
    data = bytes(range(256)) * 10
    digest = registry.push_blob(NAME, data)
    response = client.get(f"/v2/{NAME}/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert b"".join(response.streaming_content) == data[10:20]
    bad = client.get(f"/v2/{NAME}/blobs/{digest}", headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416


def test_chunked_upload_in_three_patches(registry, client, blob_storage):
    data = b"0123456789" * 300
    start = client.post(f"/v2/{NAME}/blobs/uploads/")
    assert start.status_code == 202
    location = start["Location"]
    assert start["Docker-Upload-UUID"] in location
    for offset in (0, 1000, 2000):
        chunk = data[offset : offset + 1000]
        response = client.patch(
            location,
            data=chunk,
            content_type="application/octet-stream",
            headers={"Content-Range": f"{offset}-{offset + len(chunk) - 1}"},
        )
        assert response.status_code == 202, response.content
        assert response["Range"] == f"0-{offset + len(chunk) - 1}"
    progress = client.get(location)
    assert progress.status_code == 204 and progress["Range"] == f"0-{len(data) - 1}"
    done = client.put(f"{location}?digest={digest_of(data)}")
    assert done.status_code == 201, done.content
    assert done["Docker-Content-Digest"] == digest_of(data)
    assert not UploadSession.objects.exists()
    assert _files(blob_storage / "uploads") == []


def test_out_of_order_chunk_is_416_with_range(registry, client):
    location = client.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    client.patch(location, data=b"abcd", content_type="application/octet-stream", headers={"Content-Range": "0-3"})
    response = client.patch(
        location, data=b"efgh", content_type="application/octet-stream", headers={"Content-Range": "10-13"}
    )
    assert response.status_code == 416
    assert response["Range"] == "0-3"
    assert error_code(response) == "BLOB_UPLOAD_INVALID"


@pytest.mark.parametrize("monolithic", [True, False])
def test_wrong_digest_leaves_nothing_behind(registry, client, blob_storage, monolithic):
    data = b"the real bytes"
    wrong = digest_of(b"other bytes")
    if monolithic:
        response = client.post(
            f"/v2/{NAME}/blobs/uploads/?digest={wrong}", data=data, content_type="application/octet-stream"
        )
    else:
        location = client.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
        client.patch(location, data=data, content_type="application/octet-stream")
        response = client.put(f"{location}?digest={wrong}")
    assert response.status_code == 400
    assert error_code(response) == "DIGEST_INVALID"
    assert not Blob.objects.exists() and not RepositoryBlob.objects.exists()
    assert not UploadSession.objects.exists()
    assert _files(blob_storage) == []


@pytest.mark.parametrize("digest", ["sha256:../../etc/passwd", "sha256:%2e%2e", "md5:abc", "sha256:" + "A" * 64])
def test_invalid_digests_are_refused_without_files(registry, client, blob_storage, digest):
    response = client.post(
        f"/v2/{NAME}/blobs/uploads/?digest={digest}", data=b"x", content_type="application/octet-stream"
    )
    assert response.status_code == 400
    assert error_code(response) == "DIGEST_INVALID"
    assert client.get(f"/v2/{NAME}/blobs/{digest}").status_code in (400, 404)
    assert _files(blob_storage) == []


def test_unknown_blob_and_upload(registry, client):
    missing = digest_of(b"nothing")
    response = client.get(f"/v2/{NAME}/blobs/{missing}")
    assert response.status_code == 404 and error_code(response) == "BLOB_UNKNOWN"
    response = client.get(f"/v2/{NAME}/blobs/uploads/0c6d1a5e-0000-4000-8000-000000000000")
    assert response.status_code == 404 and error_code(response) == "BLOB_UPLOAD_UNKNOWN"


def test_unknown_repository_is_name_unknown(client, db, blob_storage):
    response = client.post("/v2/nope/app/blobs/uploads/")
    assert response.status_code == 404 and error_code(response) == "NAME_UNKNOWN"


def test_invalid_name_is_name_invalid(registry, client):
    response = client.get("/v2/docker-local/UPPER/tags/list")
    assert response.status_code == 400 and error_code(response) == "NAME_INVALID"


def test_same_blob_pushed_twice_is_stored_once(registry, client, blob_storage):
    data = b"shared layer"
    registry.push_blob(NAME, data)
    registry.push_blob("docker-local/other", data)
    assert Blob.objects.count() == 1
    assert len(_files(blob_storage / "blobs")) == 1


def test_cancelled_upload_is_removed(registry, client, blob_storage):
    location = client.post(f"/v2/{NAME}/blobs/uploads/")["Location"]
    client.patch(location, data=b"partial", content_type="application/octet-stream")
    assert client.delete(location).status_code == 204
    assert client.get(location).status_code == 404
    assert _files(blob_storage / "uploads") == []
