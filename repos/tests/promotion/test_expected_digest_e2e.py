"""`expected_digest` over HTTP against the real server and a real Celery worker, on SQLite and on PostgreSQL.

CI runs the suite on PostgreSQL; this module also starts a server on SQLite (and, where DATABASE_URL points at
PostgreSQL, one on PostgreSQL), so both databases answer the same REST calls in every run.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests

from conftest import IN_CI
from repos.tests.dashboard.content import multiarch
from repos.tests.promotion.test_browser import IMAGE, push, tags_in
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    if request.param == "postgresql" and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        message = "DATABASE_URL does not point at PostgreSQL"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with running_server(tmp_path, sqlite=request.param == "sqlite") as running:
        running.start_worker()
        running.backend = request.param
        yield running


def test_expected_digest_promotes_what_was_checked_or_nothing(server):
    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    api = f"{server.url}/api/promotions/"
    checked = push(server, session, "1.0", multiarch(f"checked {uuid.uuid4().hex[:6]}"))
    body = {
        "source_repository": "docker-local",
        "image": IMAGE,
        "source_tag": "1.0",
        "target_repository": "docker-target",
        "copy": True,
    }

    dry_run = session.post(api, json={**body, "dry_run": True}).json()
    assert dry_run["source_digest"] == checked
    moved = push(server, session, "1.0", multiarch(f"pushed after the check {uuid.uuid4().hex[:6]}"))

    refused = session.post(api, json={**body, "expected_digest": dry_run["source_digest"]})

    assert refused.status_code == 409, refused.text
    [error] = refused.json()["errors"]
    [refusal] = error["detail"]["refusals"]
    assert refusal["rule"] == "source-changed"
    assert refusal["detail"]["changed"] == [{"tag": "1.0", "previewed": checked, "current": moved}]
    assert session.get(api).json()["count"] == 0
    assert tags_in(session, server, "docker-target") == {}
    assert tags_in(session, server, "docker-local")["1.0"] == moved

    done = session.post(api, json={**body, "expected_digest": moved, "wait": True})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded" and done.json()["expected_digests"] == {"1.0": moved}
    assert tags_in(session, server, "docker-target")["1.0"] == moved

    malformed = session.post(api, json={**body, "expected_digest": "sha256:../../etc/passwd"})
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["code"] == "PROMOTION_INVALID"
