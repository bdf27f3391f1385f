"""Pushes and promotions go on while garbage collection runs again and again: nothing pushed is lost.

The real server (gunicorn, two processes), a real Celery worker on Redis for the promotions, and
`manage.py gc` in a loop with a short grace window; on the filesystem and on S3 (a moto server).
"""

import re
import time
import uuid

import boto3
import pytest

from repos.tests.ops.soak import soak, verify
from repos.tests.storage.conftest import moto_endpoint  # noqa: F401  (fixture)
from repos.tests.storage.util import S3_CREDENTIALS
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e

GRACE = 8
SOAK_SECONDS = 40
# Every HEAD, mount and push touches its blobs (no write-saving interval), so the grace may be short.
GC_ENV = {"REGISTRY_GC_TOUCH_SECONDS": "0"}


def _reclaimed(outputs: list[str]) -> tuple[int, int]:
    blobs = sum(int(m) for out in outputs for m in re.findall(r"^  blobs: (\d+)$", out, re.M))
    manifests = sum(int(m) for out in outputs for m in re.findall(r"^  manifests: (\d+)$", out, re.M))
    return blobs, manifests


def _soak_and_check(server):
    server.start_worker()
    auth = ("admin", server.admin_password)
    result = soak(server.url, auth, lambda: server.manage("gc", "--grace", str(GRACE)), seconds=SOAK_SECONDS)
    assert result.failures == []
    assert result.pushes > 20 and result.promotions > 3 and result.gc_runs >= 3
    time.sleep(GRACE + 1)  # what is waited for is the clock: the last garbage grows older than the grace window
    final = server.manage("gc", "--grace", str(GRACE))
    blobs, manifests = _reclaimed(result.gc_outputs + [final])
    assert blobs > 0 and manifests > 0, "garbage was made all along: GC must have reclaimed some"
    assert verify(server.url, auth, result) == []
    print(
        f"soak: {result.pushes} pushes, {result.promotions} promotions, {result.gc_runs} GC runs, "
        f"{blobs} blobs and {manifests} manifests reclaimed, {len(result.expected)} tags verified"
    )
    check = server.manage("registry_check")
    assert "consistent" in check
    return result


def test_push_promote_and_gc_concurrently_on_the_filesystem(tmp_path):
    with running_server(tmp_path, extra_env=GC_ENV, redis=True) as server:
        _soak_and_check(server)


def test_push_promote_and_gc_concurrently_on_s3(tmp_path, moto_endpoint):  # noqa: F811
    bucket = f"soak-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name=S3_CREDENTIALS["region"],
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
    ).create_bucket(Bucket=bucket)
    env = dict(
        GC_ENV,
        S3_BUCKET=bucket,
        S3_ENDPOINT_URL=moto_endpoint,
        S3_REGION=S3_CREDENTIALS["region"],
        S3_ACCESS_KEY=S3_CREDENTIALS["access_key"],
        S3_SECRET_KEY=S3_CREDENTIALS["secret_key"],
    )
    with running_server(tmp_path, extra_env=env, redis=True) as server:
        _soak_and_check(server)
