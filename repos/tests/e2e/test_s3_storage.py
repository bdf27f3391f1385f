"""The same multi-arch push and pull with blob storage in S3 (a real moto S3 server)."""

import uuid

import boto3
import pytest
import requests

from repos.oci.digests import sha256_digest
from repos.tests.storage.conftest import moto_endpoint  # noqa: F401  (fixture)
from repos.tests.storage.util import S3_CREDENTIALS
from tests.support.clients import (
    buildah,
    buildah_build_list,
    registry_manifest,
    registry_tags,
    skopeo_copy,
    write_context,
)
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s3_server(moto_endpoint, tmp_path_factory):  # noqa: F811
    bucket = f"registry-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=S3_CREDENTIALS["region"],
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    )
    s3.create_bucket(Bucket=bucket)
    env = {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": moto_endpoint,
        "S3_REGION": S3_CREDENTIALS["region"],
        "S3_ACCESS_KEY": S3_CREDENTIALS["access_key"],
        "S3_SECRET_KEY": S3_CREDENTIALS["secret_key"],
    }
    with running_server(tmp_path_factory.mktemp("s3-registry"), extra_env=env) as server:
        server.extra.update(s3=s3, bucket=bucket)
        yield server


def test_multiarch_push_and_pull_with_s3_blobs(s3_server, tmp_path):
    server = s3_server
    creds = f"admin:{server.admin_password}"
    context = write_context(tmp_path / "ctx", content=f"s3 {uuid.uuid4().hex}\n")
    storage = tmp_path / "buildah"
    buildah_build_list(storage, context, "localhost/s3-list")
    target = f"docker://{server.host}/docker-local/s3-image:tag"
    buildah(storage, "manifest", "push", "--all", "--tls-verify=false", "--creds", creds, "localhost/s3-list", target)

    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    index, index_digest, raw = registry_manifest(server, "docker-local/s3-image", "tag", session=session)
    assert {"tag", "tag-linux-amd64", "tag-linux-arm64"} <= set(
        registry_tags(server, "docker-local/s3-image", session=session)
    )

    # Every blob lives in the bucket under its content address, and its bytes hash to the digest.
    keys = {
        obj["Key"]
        for page in server.extra["s3"].get_paginator("list_objects_v2").paginate(Bucket=server.extra["bucket"])
        for obj in page.get("Contents", [])
    }
    child, _, _ = registry_manifest(server, "docker-local/s3-image", index["manifests"][0]["digest"], session=session)
    for descriptor in [child["config"], *child["layers"]]:
        hex_digest = descriptor["digest"].split(":", 1)[1]
        assert f"sha256/{hex_digest[:2]}/{hex_digest}" in keys
        blob_url = f"{server.url}/v2/docker-local/s3-image/blobs/{descriptor['digest']}"
        redirect = session.get(blob_url, allow_redirects=False)
        assert redirect.status_code == 307 and "X-Amz-Signature" in redirect.headers["Location"]
        data = session.get(blob_url).content
        assert sha256_digest(data) == descriptor["digest"]
    assert not any(key.startswith("uploads") for key in keys)

    layout = tmp_path / "layout"
    skopeo_copy(target, f"oci:{layout}:tag", "--all", src_creds=creds)
    back = f"docker://{server.host}/docker-local/s3-copy:tag"
    skopeo_copy(f"oci:{layout}:tag", back, "--all", dest_creds=creds)
    _, copied_digest, copied_raw = registry_manifest(server, "docker-local/s3-copy", "tag", session=session)
    assert copied_digest == index_digest and copied_raw == raw
