"""End to end: real server, real Celery worker on Redis, buildah pushing real multi-arch images.

`webapp:1.1` with two platforms, then `1.2` with one: an alert through the API and on the pages, and
signed webhook deliveries (push, alert) received by a listener on 127.0.0.1. A listener that fails
twice and then answers 200 gets the same delivery three times, all logged.
"""

from __future__ import annotations

import uuid

import pytest

from insights.tests.e2e.listener import start_listener
from tests.support.clients import admin_session, buildah_build_list, push_list, signed_in, write_context
from tests.support.servers import running_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
SECRET = f"secret-{uuid.uuid4().hex}"


def push_release(server, storage, context, tag: str, platforms: str) -> None:
    list_name = f"localhost/webapp-{tag}-{uuid.uuid4().hex[:6]}"
    buildah_build_list(storage, context, list_name, platforms=platforms)
    push_list(storage, list_name, f"docker://{server.host}/docker-local/webapp:{tag}", f"admin:{server.admin_password}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"UPSTREAM_ALLOW_PRIVATE": "1", "WEBHOOK_RETRY_BASE_SECONDS": "1"}
    with running_server(tmp_path_factory.mktemp("insights"), extra_env=env, redis=True) as running:
        running.start_worker()
        yield running


def test_lost_platform_alerts_through_api_pages_and_signed_webhooks(server, tmp_path):
    listener = start_listener()
    listener.failures_left["/flaky"] = 2
    admin = admin_session(server)
    for path, events in (("/hook", ["push", "alert"]), ("/flaky", ["alert"])):
        created = admin.post(
            f"{server.url}/api/webhooks/",
            json={"url": listener.url + path, "events": events, "secret": SECRET, "repository": "docker-local"},
        )
        assert created.status_code == 201, created.text
    flaky_id = created.json()["id"]

    context = write_context(tmp_path / "ctx", content=f"webapp {uuid.uuid4().hex}\n")
    push_release(server, tmp_path / "buildah", context, "1.1", "linux/amd64,linux/arm64")
    push_release(server, tmp_path / "buildah", context, "1.2", "linux/amd64")

    alerts = admin.get(f"{server.url}/api/alerts/", params={"image": "webapp", "state": "open"}).json()
    assert alerts["count"] == 1, alerts
    alert = alerts["results"][0]
    assert alert["kind"] == "platform-regression" and alert["tag"] == "1.2"
    assert alert["details"]["lost"] == ["linux/arm64"]
    browser = signed_in(server)
    for page in ("/", "/repositories/docker-local/webapp/", "/repositories/docker-local/webapp/-/tags/1.2/"):
        html = browser.get(server.url + page).text
        assert "webapp:1.2 lacks linux/arm64" in html, page

    alert_calls = wait_until(
        lambda: [r for r in listener.on("/hook") if r.payload["event"] == "alert"],
        what="an alert delivery on /hook",
        timeout=120,
    )
    delivered = alert_calls[0]
    assert delivered.signature_valid(SECRET)
    assert not delivered.signature_valid("another secret")
    assert delivered.headers["X-Registry-Event"] == "alert" and delivered.headers["X-Registry-Delivery"]
    body = delivered.payload
    assert (body["repository"], body["image"], body["tag"]) == ("docker-local", "webapp", "1.2")
    assert body["platforms"] == ["linux/amd64"] and body["actor"] == "admin"
    assert body["digest"].startswith("sha256:") and body["media_type"].endswith(("index.v1+json", "list.v2+json"))
    assert body["alert"]["details"]["lost"] == ["linux/arm64"]
    pushes = [r.payload for r in listener.on("/hook") if r.payload["event"] == "push"]
    assert {p["tag"] for p in pushes} >= {"1.1", "1.2"}
    assert all(r.signature_valid(SECRET) for r in listener.on("/hook"))

    # Failing twice, then 200: one delivery, three attempts, one id.
    flaky = wait_until(
        lambda: len(listener.on("/flaky")) >= 3 and listener.on("/flaky"), what="3 attempts on /flaky", timeout=120
    )
    assert [r.answered for r in flaky] == [500, 500, 200]
    assert len({r.headers["X-Registry-Delivery"] for r in flaky}) == 1
    assert all(r.signature_valid(SECRET) for r in flaky)

    def logged():
        rows = admin.get(f"{server.url}/api/webhooks/{flaky_id}/deliveries/").json()["results"]
        return rows if rows and rows[0]["status"] == "delivered" else None

    rows = wait_until(logged, what="the delivery logged as delivered", timeout=120)
    assert len(rows) == 1
    assert rows[0]["attempts"] == 3 and rows[0]["response_code"] == 200
    assert [a["response_code"] for a in rows[0]["attempt_log"]] == [500, 500, 200]
    assert rows[0]["payload"]["tag"] == "1.2"
    page = browser.get(f"{server.url}/webhooks/{flaky_id}/").text
    assert "delivered" in page and "Redeliver" in page

    again = admin.post(f"{server.url}/api/webhooks/{flaky_id}/deliveries/{rows[0]['id']}/redeliver/")
    assert again.status_code == 202, again.text
    wait_until(lambda: len(listener.on("/flaky")) == 4, what="the redelivery", timeout=120)
    assert listener.on("/flaky")[3].signature_valid(SECRET)
    listener.server.shutdown()


def test_webhook_url_passes_the_outbound_policy(tmp_path_factory):
    """Without UPSTREAM_ALLOW_PRIVATE, loopback and metadata addresses are refused when registering."""
    with running_server(tmp_path_factory.mktemp("insights-ssrf")) as strict:
        admin = admin_session(strict)
        for url in (
            "http://127.0.0.1:9/x",
            "http://169.254.169.254/latest",
            "ftp://example.com/x",
            "http://user:pw@example.com/x",
        ):
            response = admin.post(
                f"{strict.url}/api/webhooks/", json={"url": url, "events": ["push"], "secret": SECRET}
            )
            assert response.status_code == 400 and "url" in response.json()["errors"][0]["detail"], (url, response.text)


def test_parity_flags_an_arm64_image_from_another_revision_only(server, tmp_path):
    """Two per-arch builds with different revision labels in one list are flagged; one multi-arch build from
    one Dockerfile is not."""
    storage = tmp_path / "buildah"
    context = write_context(tmp_path / "ctx", content=f"parity {uuid.uuid4().hex}\n")
    revision = "org.opencontainers.image.revision"
    mixed = f"localhost/mixed-{uuid.uuid4().hex[:6]}"
    for arch, sha in (("amd64", "aaaa111"), ("arm64", "bbbb222")):
        buildah_build_list(storage, context, mixed, "--label", f"{revision}={sha}", platforms=f"linux/{arch}")
    same = f"localhost/same-{uuid.uuid4().hex[:6]}"
    buildah_build_list(storage, context, same, "--label", f"{revision}=aaaa111")
    for list_name, tag in ((mixed, "mixed"), (same, "same")):
        push_list(
            storage, list_name, f"docker://{server.host}/docker-local/parity:{tag}", f"admin:{server.admin_password}"
        )

    admin = admin_session(server)
    flagged = admin.get(f"{server.url}/api/alerts/", params={"image": "parity", "kind": "parity"}).json()
    assert [a["tag"] for a in flagged["results"]] == ["mixed"], flagged
    findings = {f["check"]: f["detail"] for f in flagged["results"][0]["details"]["findings"]}
    assert findings == {f"label {revision}": "linux/amd64: aaaa111; linux/arm64: bbbb222"}
    page = signed_in(server).get(f"{server.url}/repositories/docker-local/parity/-/tags/mixed/").text
    assert "linux/arm64: bbbb222" in page
