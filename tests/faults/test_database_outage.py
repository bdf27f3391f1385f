"""PostgreSQL unavailable for 10 s under the stack runner, with promotions waiting for the worker: the
stack stays up, /readyz says the database is down meanwhile, and afterwards every promotion asked for
ends succeeded (none lost, none stuck queued or running). Only this stack loses its database: it reaches
PostgreSQL through a TCP proxy the test cuts (tests/support/network.py)."""

import os
import signal
import time
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from conftest import IN_CI, require_tool
from tests.faults.harness import running_stack
from tests.support.network import TcpProxy
from tests.support.servers import _create_database, _drop_database

pytestmark = pytest.mark.e2e
OUTAGE_SECONDS = 10


def _postgres_base() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url
    fallback = "postgres://postgres@127.0.0.1:5432/postgres"
    try:
        psycopg.connect(fallback, connect_timeout=3).close()
    except psycopg.OperationalError:
        if IN_CI:
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    return fallback


@pytest.fixture
def proxied_database():
    base = _postgres_base()
    direct_url, name = _create_database(base)
    parts = urlsplit(direct_url)
    proxy = TcpProxy((parts.hostname, parts.port or 5432))
    try:
        yield proxy, direct_url, parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    finally:
        proxy.close()
        _drop_database(base, name)


def test_database_unavailable_for_ten_seconds(tmp_path, proxied_database):
    require_tool("skopeo")
    proxy, direct_url, proxied_url = proxied_database
    with running_stack(tmp_path, database_url=proxied_url) as stack:
        stack.wait_ready()
        stack.push_image()
        assert stack.follow(stack.promote("before"))["status"] == "succeeded"
        # Three promotions wait in the broker while the worker is held, then the database goes away.
        worker = stack.roles()["worker"][0]
        stack.kill(worker, signal.SIGSTOP)
        jobs = {f"queued-{n}": stack.promote(f"queued-{n}") for n in range(3)}
        proxy.cut()
        stack.kill(worker, signal.SIGCONT)
        started = time.monotonic()
        ready = requests.get(f"{stack.url}/readyz", timeout=30)
        assert ready.status_code == 503 and "database" in ready.text
        refused = requests.post(
            f"{stack.url}/api/promotions/",
            auth=("admin", stack.admin_password),
            timeout=60,
            json={
                "source_repository": "docker-local",
                "image": "faults",
                "target_repository": "docker-target",
                "source_tag": "latest",
                "target_tag": "during",
                "copy": True,
            },
        )
        assert refused.status_code >= 500  # nothing recorded, and the client is told so
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))  # the outage lasts its full length
        proxy.restore()
        stack.wait_for(lambda: requests.get(f"{stack.url}/readyz", timeout=30).status_code == 200, "readiness")
        jobs["after"] = stack.promote("after")
        for tag, url in jobs.items():
            job = stack.follow(url, timeout=180)
            assert job["status"] == "succeeded", (tag, job)
            assert stack.target_tag_exists(tag)
        assert not stack.target_tag_exists("during")
        assert proxy.refused > 0  # the stack did try to reach the database meanwhile
        with psycopg.connect(direct_url) as conn:
            stuck = conn.execute("SELECT count(*) FROM repos_promotionjob WHERE status IN ('queued', 'running')")
            assert stuck.fetchone()[0] == 0
        assert stack.process.poll() is None
