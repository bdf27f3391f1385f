"""S3-backend specifics against a real moto server."""

from __future__ import annotations

import os

import boto3
import pytest
import requests
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from tests.support.content import digest_of

from .util import S3_CREDENTIALS, make_s3_store


@pytest.fixture
def raw_client(moto_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=S3_CREDENTIALS["region"],
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    )


def test_key_layout_and_open_body(moto_endpoint, s3_bucket, stage, raw_client):
    store = make_s3_store(moto_endpoint, s3_bucket)
    data = b"streamed"
    digest = digest_of(data)
    hexpart = digest.split(":")[1]
    assert store.commit(staged_path=stage(data), digest=digest)
    assert store.key(digest) == f"sha256/{hexpart[:2]}/{hexpart}"
    head = raw_client.head_object(Bucket=s3_bucket, Key=store.key(digest))
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "application/octet-stream"
    body = store.open(digest)
    assert isinstance(body, StreamingBody)
    with body:
        assert body.read(3) + body.read() == data
    assert store.local_path(digest) is None


def test_presigned_url_downloads_bytes(moto_endpoint, s3_bucket, stage):
    store = make_s3_store(moto_endpoint, s3_bucket)
    data = os.urandom(70_000)
    digest = digest_of(data)
    store.commit(staged_path=stage(data), digest=digest)

    url = store.presigned_url(digest, expires=120)
    assert url.startswith(f"{moto_endpoint}/{s3_bucket}/sha256/")  # path-style
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url  # SigV4, not SigV2
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200
    assert resp.content == data

    missing = requests.get(store.presigned_url(digest_of(b"absent")), timeout=10)
    assert missing.status_code == 404


@pytest.mark.parametrize("prefix, expected", [("registry", "registry/"), ("/a/b/", "a/b/")])
def test_prefix_isolates_stores(moto_endpoint, s3_bucket, stage, raw_client, prefix, expected):
    prefixed = make_s3_store(moto_endpoint, s3_bucket, prefix=prefix)
    plain = make_s3_store(moto_endpoint, s3_bucket)
    data = b"prefixed"
    digest = digest_of(data)
    assert prefixed.commit(staged_path=stage(data), digest=digest)
    assert prefixed.key(digest).startswith(expected + "sha256/")
    raw_client.head_object(Bucket=s3_bucket, Key=prefixed.key(digest))
    assert prefixed.exists(digest) and not plain.exists(digest)
    assert list(prefixed.iter_digests()) == [digest]
    assert list(plain.iter_digests()) == []


def test_iter_digests_ignores_foreign_keys_and_paginates(moto_endpoint, s3_bucket, stage, raw_client):
    store = make_s3_store(moto_endpoint, s3_bucket)
    store.list_page_size = 3
    blobs = [f"page {i}".encode() for i in range(10)]  # several pages
    for data in blobs:
        raw_client.put_object(Bucket=s3_bucket, Key=store.key(digest_of(data)), Body=data)
    hexpart = digest_of(b"x").split(":")[1]
    for junk in ["README", "sha256/README", f"sha256/zz/{hexpart}", f"sha256/{hexpart[:2]}/{hexpart}/x"]:
        raw_client.put_object(Bucket=s3_bucket, Key=junk, Body=b"junk")
    assert set(store.iter_digests()) == {digest_of(d) for d in blobs}


def test_missing_bucket_is_an_error_not_a_missing_blob(moto_endpoint, stage):
    store = make_s3_store(moto_endpoint, "no-such-bucket-here")
    with pytest.raises(ClientError):
        store.open(digest_of(b"x"))
    staged = stage(b"x")
    with pytest.raises(S3UploadFailedError):  # boto3 wraps upload_file errors
        store.commit(staged_path=staged, digest=digest_of(b"x"))
    assert os.path.exists(staged), "a failed upload leaves the staged file for a retry"
