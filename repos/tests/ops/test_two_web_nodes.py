"""Two gunicorn instances with separate local directories share PostgreSQL, Redis and an S3 bucket
(moto): any node serves any request of an upload, and docker/skopeo push and pull through either."""

import hashlib
import os
import re
import secrets
import uuid

import boto3
import pytest
import requests

from conftest import IN_CI
from repos.oci.digests import sha256_digest
from repos.tests.ops.soak import MANIFEST
from repos.tests.storage.conftest import moto_endpoint  # noqa: F401  (fixture)
from repos.tests.storage.util import S3_CREDENTIALS
from tests.support.clients import docker_available, docker_env, run, skopeo_copy, skopeo_raw, write_context
from tests.support.content import image_config, image_manifest
from tests.support.servers import _create_database, _drop_database, running_server

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, moto_endpoint):  # noqa: F811
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        message = "two web nodes need a shared PostgreSQL (DATABASE_URL)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    db_url, db_name = _create_database(base)
    bucket = f"nodes-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=S3_CREDENTIALS["region"],
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    ).create_bucket(Bucket=bucket)
    shared = tmp_path_factory.mktemp("shared-secrets")
    password = secrets.token_urlsafe(12)
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "CELERY_QUEUE": f"nodes-{uuid.uuid4().hex[:6]}",
        "ADMIN_PASSWORD": password,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "REGISTRY_TOKEN_KEY_PATH": str(shared / "token-signing-key.pem"),
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": moto_endpoint,
        "S3_REGION": S3_CREDENTIALS["region"],
        "S3_ACCESS_KEY": S3_CREDENTIALS["access_key"],
        "S3_SECRET_KEY": S3_CREDENTIALS["secret_key"],
        "UPLOAD_PART_SIZE": str(5 * MiB),
    }
    try:
        with (
            running_server(tmp_path_factory.mktemp("node-a"), extra_env=env, sqlite=True) as a,
            running_server(tmp_path_factory.mktemp("node-b"), extra_env=env, sqlite=True) as b,
        ):
            assert a.data_dir != b.data_dir
            yield a, b, password
    finally:
        _drop_database(base, db_name)


def _session(password):
    session = requests.Session()
    session.auth = ("admin", password)
    return session


def _abs(node, location):
    return location if location.startswith("http") else node.url + location


def test_a_chunked_upload_alternating_between_nodes_completes(nodes):
    a, b, password = nodes
    http = _session(password)
    layer = os.urandom(3 * MiB) + os.urandom(4 * MiB) + b"!" + os.urandom(6 * MiB) + b"ok"
    cuts = [3 * MiB, 4 * MiB, 1, 6 * MiB]
    start = http.post(f"{a.url}/v2/docker-local/two-nodes/blobs/uploads/")
    assert start.status_code == 202
    location, offset = start.headers["Location"], 0
    for i, size in enumerate(cuts):
        node = (b, a)[i % 2]  # B, A, B, A: every chunk on the other node
        chunk = layer[offset : offset + size]
        response = http.patch(
            _abs(node, location),
            data=chunk,
            headers={"Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{offset + size - 1}"},
        )
        assert response.status_code == 202, response.text
        offset += size
        location = response.headers["Location"]
        status = http.get(_abs((a, b)[i % 2], location))  # and the other node knows how far it got
        assert status.status_code == 204 and status.headers["Range"] == f"0-{offset - 1}"
    digest = sha256_digest(layer)
    sep = "&" if "?" in location else "?"
    done = http.put(
        f"{_abs(b, location)}{sep}digest={digest}",
        data=layer[offset:],
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    for node in (a, b):
        assert (
            hashlib.sha256(http.get(f"{node.url}/v2/docker-local/two-nodes/blobs/{digest}").content).hexdigest()
            == digest[7:]
        )
    # A manifest pushed on A referencing it (and a config uploaded on B) pulls from B.
    config = image_config()
    config_digest = sha256_digest(config)
    assert (
        http.post(
            f"{b.url}/v2/docker-local/two-nodes/blobs/uploads/?digest={config_digest}",
            data=config,
            headers={"Content-Type": "application/octet-stream"},
        ).status_code
        == 201
    )
    manifest = image_manifest(config=config, layers=[layer], oci=True)
    assert (
        http.put(
            f"{a.url}/v2/docker-local/two-nodes/manifests/1", data=manifest, headers={"Content-Type": MANIFEST}
        ).status_code
        == 201
    )
    pulled = http.get(f"{b.url}/v2/docker-local/two-nodes/manifests/1", headers={"Accept": MANIFEST})
    assert pulled.status_code == 200 and pulled.content == manifest
    # Neither node staged anything on its own disk.
    for node in (a, b):
        staged = node.data_dir / "uploads"
        assert not staged.exists() or not [p for p in staged.iterdir() if not p.name.startswith(".")]


def test_skopeo_and_docker_push_and_pull_through_either_node(nodes, tmp_path):
    a, b, password = nodes
    creds = f"admin:{password}"
    docker_available()
    env_a = docker_env(tmp_path / "docker-a")
    env_b = docker_env(tmp_path / "docker-b")
    run("docker", "login", a.host, "-u", "admin", "--password-stdin", env=env_a, input=password)
    run("docker", "login", b.host, "-u", "admin", "--password-stdin", env=env_b, input=password)
    context = write_context(tmp_path / "ctx", content=f"two nodes {uuid.uuid4().hex}\n" + "z" * 200_000)
    ref_a = f"{a.host}/docker-local/nodes-docker:1"
    run("docker", "build", "--network=none", "-t", ref_a, str(context), env=env_a)
    pushed = run("docker", "push", ref_a, env=env_a)  # push through A
    pushed_digest = re.search(r"digest: (sha256:[0-9a-f]{64})", pushed).group(1)
    ref_b = f"{b.host}/docker-local/nodes-docker:1"
    pulled = run("docker", "pull", ref_b, env=env_b)  # pull through B
    assert pushed_digest in pulled
    # skopeo: copy through B (push) from A (pull), then read it back through A.
    skopeo_copy(
        f"docker://{a.host}/docker-local/nodes-docker:1",
        f"docker://{b.host}/docker-local/nodes-skopeo:1",
        src_creds=creds,
        dest_creds=creds,
    )
    raw = skopeo_raw(f"docker://{a.host}/docker-local/nodes-skopeo:1", creds)
    assert sha256_digest(raw) == pushed_digest
    layout = tmp_path / "layout"
    skopeo_copy(f"docker://{a.host}/docker-local/nodes-skopeo:1", f"dir:{layout}", src_creds=creds)
    run("docker", "rmi", "-f", ref_b, env=env_b)
