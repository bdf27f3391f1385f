"""Uploads staged in the S3 bucket (moto server): chunks of any size, state only in the database."""

import os

import boto3
import pytest

from repos.models import UploadSession
from repos.oci.digests import sha256_digest
from repos.storage import reset_storage_cache
from repos.tests.registry.client import error_code
from repos.tests.storage.conftest import moto_endpoint, s3_bucket  # noqa: F401  (fixtures)
from repos.tests.storage.util import S3_CREDENTIALS
from tests.support.content import digest_of
from tests.support.factories import RepositoryFactory

MiB = 1024 * 1024


@pytest.fixture
def bucket_storage(settings, tmp_path, moto_endpoint, s3_bucket):  # noqa: F811
    settings.BLOB_STORAGE = {
        "BACKEND": "s3",
        "BUCKET": s3_bucket,
        "ENDPOINT_URL": moto_endpoint,
        "REGION": S3_CREDENTIALS["region"],
        "ACCESS_KEY": S3_CREDENTIALS["access_key"],
        "SECRET_KEY": S3_CREDENTIALS["secret_key"],
        "PREFIX": "reg",
    }
    settings.UPLOAD_STAGING_ROOT = str(tmp_path / "no-local-staging")
    settings.UPLOAD_PART_SIZE = 5 * MiB
    reset_storage_cache()
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=S3_CREDENTIALS["region"],
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    )
    yield s3, s3_bucket
    reset_storage_cache()


@pytest.fixture
def http(db, client, django_user_model, bucket_storage):
    RepositoryFactory(key="docker-local")
    admin = django_user_model.objects.create_superuser(username="stage-admin", password=None)
    client.force_login(admin)
    return client


def keys(s3, bucket) -> set[str]:
    return {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    }


def test_chunks_of_any_size_compose_in_the_bucket(http, bucket_storage, tmp_path):
    s3, bucket = bucket_storage
    data = os.urandom(3 * MiB) + os.urandom(4 * MiB) + b"x" + os.urandom(6 * MiB) + b"yz" + os.urandom(MiB)
    cuts = [3 * MiB, 4 * MiB, 1, 6 * MiB, 2]
    location = http.post("/v2/docker-local/big/blobs/uploads/").headers["Location"]
    offset = 0
    for size in cuts:
        chunk = data[offset : offset + size]
        response = http.patch(
            location,
            data=chunk,
            content_type="application/octet-stream",
            HTTP_CONTENT_RANGE=f"{offset}-{offset + size - 1}",
        )
        assert response.status_code == 202, response.content
        offset += size
        assert response.headers["Range"] == f"0-{offset - 1}"
        session = UploadSession.objects.get()
        assert session.staging == "bucket" and session.offset == offset and session.hash_state
        assert all(part["size"] == 5 * MiB for part in session.parts)
    assert not os.path.exists(tmp_path / "no-local-staging")  # nothing on this node's disk
    digest = sha256_digest(data)
    done = http.put(f"{location}?digest={digest}", data=data[offset:], content_type="application/octet-stream")
    assert done.status_code == 201, done.content
    body = s3.get_object(Bucket=bucket, Key=f"reg/sha256/{digest[7:9]}/{digest[7:]}")["Body"].read()
    assert body == data
    assert not [k for k in keys(s3, bucket) if "/uploads/" in k or k.startswith("reg/uploads")]
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert UploadSession.objects.count() == 0


def test_small_blob_and_empty_blob(http, bucket_storage):
    s3, bucket = bucket_storage
    for data in (b"small config", b""):
        location = http.post("/v2/docker-local/app/blobs/uploads/").headers["Location"]
        if data:
            http.patch(location, data=data, content_type="application/octet-stream")
        done = http.put(f"{location}?digest={digest_of(data)}", data=b"", content_type="application/octet-stream")
        assert done.status_code == 201, done.content
        assert http.get(f"/v2/docker-local/app/blobs/{digest_of(data)}", follow=False).status_code == 307


def test_wrong_order_wrong_digest_and_cancel_leave_nothing(http, bucket_storage):
    s3, bucket = bucket_storage
    location = http.post("/v2/docker-local/app/blobs/uploads/").headers["Location"]
    http.patch(location, data=b"a" * (6 * MiB), content_type="application/octet-stream")
    out_of_order = http.patch(location, data=b"b", content_type="application/octet-stream", HTTP_CONTENT_RANGE="10-10")
    assert out_of_order.status_code == 416 and out_of_order.headers["Range"] == f"0-{6 * MiB - 1}"
    bad = http.put(
        f"{location}?digest={digest_of(b'something else')}", data=b"", content_type="application/octet-stream"
    )
    assert bad.status_code == 400 and error_code(bad) == "DIGEST_INVALID"
    assert UploadSession.objects.count() == 0
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert not [k for k in keys(s3, bucket) if "uploads/" in k]

    location = http.post("/v2/docker-local/app/blobs/uploads/").headers["Location"]
    http.patch(location, data=b"c" * 100, content_type="application/octet-stream")
    assert http.delete(location).status_code == 204
    assert not [k for k in keys(s3, bucket) if "uploads/" in k]


def test_a_second_writer_gets_416(http, bucket_storage):
    location = http.post("/v2/docker-local/app/blobs/uploads/").headers["Location"]
    session = UploadSession.objects.get()
    from datetime import timedelta

    from django.utils import timezone

    UploadSession.objects.filter(pk=session.pk).update(locked_until=timezone.now() + timedelta(seconds=60))
    busy = http.patch(location, data=b"x", content_type="application/octet-stream")
    assert busy.status_code == 416
