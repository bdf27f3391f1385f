"""Fixtures for the blob store tests: a real moto S3 server and both backends."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.network import free_port
from tests.support.waiting import wait_until_answers

from .util import S3_CREDENTIALS, make_s3_store


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    """URL of a moto S3 server running in a subprocess for this module."""
    moto_server = Path(sys.executable).with_name("moto_server")
    if not moto_server.exists():
        pytest.skip(f"{moto_server} not installed (pip install 'moto[server]')")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    with open(log, "wb") as log_fh:
        proc = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(endpoint + "/", what="moto_server", process=proc, log=log, statuses=None, timeout=30)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3_bucket(moto_endpoint):
    """A fresh, empty bucket on the moto server (one per test)."""
    import boto3

    name = f"blobs-{uuid.uuid4().hex[:16]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=S3_CREDENTIALS["region"],
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["filesystem", "s3"])
def store(request, tmp_path):
    """Each behaviour test runs against both backends."""
    if request.param == "filesystem":
        from repos.storage.filesystem import FilesystemBlobStore

        return FilesystemBlobStore(tmp_path / "blobs")
    endpoint = request.getfixturevalue("moto_endpoint")
    return make_s3_store(endpoint, request.getfixturevalue("s3_bucket"))


@pytest.fixture
def stage(tmp_path):
    """Write bytes to a fresh staged file and return its path."""
    staging_dir = tmp_path / "staged"
    staging_dir.mkdir()

    def _stage(data: bytes) -> str:
        path = staging_dir / uuid.uuid4().hex
        path.write_bytes(data)
        return str(path)

    return _stage
