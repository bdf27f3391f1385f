"""/readyz follows PostgreSQL and Redis going away and coming back; /metrics counts a real push.

The server reaches PostgreSQL through a TCP proxy this test controls and uses a redis-server of its
own, so stopping them never touches the shared services.
"""

import os
import uuid

import pytest
import requests

from conftest import require_tool
from repos.tests.ops.soak import MANIFEST, make_image, push_blob
from tests.support.network import PrivateRedis, TcpProxy
from tests.support.servers import _create_database, _drop_database, running_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def _postgres_base() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/postgres"


def _ready(server) -> tuple[int, dict]:
    response = requests.get(f"{server.url}/readyz", timeout=30)
    return response.status_code, response.json()


def _wait_for(server, status: int) -> dict:
    def answered() -> dict | None:
        code, body = _ready(server)
        return body if code == status else None

    return wait_until(answered, what=f"/readyz {status}")


@pytest.fixture
def proxied(tmp_path):
    redis_server = require_tool("redis-server")
    try:
        import psycopg

        psycopg.connect(_postgres_base().rpartition("/")[0] + "/postgres", connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is needed: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    db_url, db_name = _create_database(_postgres_base())
    host_port = db_url.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    proxy = TcpProxy((host, int(port or 5432)))
    proxied_url = db_url.replace(f"@{host_port}/", f"@127.0.0.1:{proxy.port}/")
    redis = PrivateRedis(redis_server, tmp_path / "redis")
    redis.start()
    env = {"DATABASE_URL": proxied_url, "REDIS_URL": redis.url, "CELERY_QUEUE": f"ready-{uuid.uuid4().hex[:6]}"}
    try:
        with running_server(tmp_path, extra_env=env, sqlite=True) as server:
            yield server, proxy, redis
    finally:
        proxy.close()
        redis.stop()
        _drop_database(_postgres_base(), db_name)


def test_readyz_follows_postgresql_and_redis(proxied):
    server, proxy, redis = proxied
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert _wait_for(server, 200)["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}

    proxy.cut()
    body = _wait_for(server, 503)
    assert body["failing"] == ["database"]
    assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200  # the process still answers
    proxy.restore()
    _wait_for(server, 200)

    redis.stop()
    body = _wait_for(server, 503)
    assert body["failing"] == ["broker"]
    redis.start()
    _wait_for(server, 200)


def test_metrics_count_a_push(proxied):
    server, _, _ = proxied
    auth = ("admin", server.admin_password)

    def push_count() -> float:
        text = requests.get(f"{server.url}/metrics", timeout=10).text
        for line in text.splitlines():
            if (
                line.startswith("registry_http_requests_total{")
                and 'operation="manifest_push"' in line
                and 'status="201"' in line
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = push_count()
    session = requests.Session()
    session.auth = auth
    import random

    manifest, blobs = make_image([os.urandom(100)], random.Random(1), "metrics")
    for data in blobs.values():
        push_blob(session, server.url, "docker-local/metrics", data, chunked=True)
    assert (
        session.put(
            f"{server.url}/v2/docker-local/metrics/manifests/1", data=manifest, headers={"Content-Type": MANIFEST}
        ).status_code
        == 201
    )
    assert push_count() == before + 1
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    pushed = [l for l in text.splitlines() if l.startswith("registry_bytes_pushed_total ")]
    assert pushed and float(pushed[0].split()[1]) >= sum(len(b) for b in blobs.values())
