"""Promotion end to end: skopeo pushes a two-arch image to the real server, the REST API promotes it on a
real Celery worker over Redis, skopeo reads it back from the target; plus a killed worker and duplicate
deliveries."""

from __future__ import annotations

import json
import os
import re
import signal
import uuid

import pytest
import requests
from celery import Celery

from repos.tests.promotion.content import storage_usage
from tests.support.clients import admin_creds, skopeo_pull_layout, skopeo_push_layout, skopeo_raw
from tests.support.content import AMD64, ARM64, digest_of, multiarch_image
from tests.support.locks import image_row_locked, require_postgresql, wait_for_lock_waiter
from tests.support.servers import running_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TWO_ARCH = [("linux", "amd64"), ("linux", "arm64")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = {"PROMOTION_STALE_SECONDS": "2", "PROMOTION_RECONCILE_SECONDS": "1", "PROMOTION_WAIT_SECONDS": "60"}
    with running_server(tmp_path_factory.mktemp("promotion"), redis=True, extra_env=settings) as server:
        server.extra["worker"] = server.start_worker()
        yield server


@pytest.fixture(scope="module")
def api(server):
    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    return session


def push(server, tmp_path, image: str, tag: str, *, content: str) -> str:
    layout = tmp_path / f"layout-{uuid.uuid4().hex[:6]}"
    digest = multiarch_image(content, platforms=(AMD64, ARM64)).write_layout(layout, tag=tag)
    skopeo_push_layout(server, layout, tag, f"docker-local/{image}:{tag}")
    return digest


def raw_manifest(server, reference: str) -> bytes:
    return skopeo_raw(f"docker://{server.host}/{reference}", admin_creds(server))


def push_signature(server, api, image: str, subject: bytes) -> str:
    """An OCI artifact whose subject is the index, like a cosign signature."""
    base = f"{server.url}/v2/docker-local/{image}"
    blobs = {b"{}": None, b"signature over " + digest_of(subject).encode(): None}
    for data in blobs:
        response = api.post(
            f"{base}/blobs/uploads/?digest={digest_of(data)}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 201, response.text
    config, layer = list(blobs)
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_of(config), "size": 2},
            "layers": [{"mediaType": "application/octet-stream", "digest": digest_of(layer), "size": len(layer)}],
            "subject": {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": digest_of(subject),
                "size": len(subject),
            },
        }
    ).encode()
    response = api.put(
        f"{base}/manifests/{digest_of(body)}",
        data=body,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert response.status_code == 201, response.text
    return digest_of(body)


def tags(api, server, name: str) -> set[str]:
    response = api.get(f"{server.url}/v2/{name}/tags/list")
    if response.status_code == 404:
        return set()
    assert response.status_code == 200, response.text
    return set(response.json()["tags"] or [])


def job(api, server, job_id: int) -> dict:
    return api.get(f"{server.url}/api/promotions/{job_id}/").json()


def test_rest_promotion_on_a_worker_is_metadata_only_and_complete(server, api, tmp_path):
    index_digest = push(server, tmp_path, "app", "latest", content=f"e2e {uuid.uuid4().hex}")
    index_raw = raw_manifest(server, "docker-local/app:latest")
    assert digest_of(index_raw) == index_digest
    signature = push_signature(server, api, "app", index_raw)
    before = storage_usage(server.data_dir / "blobs")

    response = api.post(
        f"{server.url}/artifactory/api/docker/docker-local/v2/promote",
        json={
            "targetRepo": "docker-target",
            "dockerRepository": "app",
            "tag": "latest",
            "targetTag": "latest-new",
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    assert storage_usage(server.data_dir / "blobs") == before  # no blob byte written
    promoted = raw_manifest(server, "docker-target/app:latest-new")
    assert promoted == index_raw and digest_of(promoted) == index_digest
    children = {
        (m["platform"]["os"], m["platform"]["architecture"]): m["digest"] for m in json.loads(promoted)["manifests"]
    }
    assert set(children) == set(TWO_ARCH)
    for (os_, arch), digest in children.items():
        assert digest_of(raw_manifest(server, f"docker-target/app@{digest}")) == digest
        assert digest_of(raw_manifest(server, f"docker-target/app:latest-new-{os_}-{arch}")) == digest
    assert tags(api, server, "docker-target/app") == {"latest-new", "latest-new-linux-amd64", "latest-new-linux-arm64"}
    assert tags(api, server, "docker-local/app") == set()  # a move
    referrers = api.get(f"{server.url}/v2/docker-target/app/referrers/{index_digest}").json()
    assert [m["digest"] for m in referrers["manifests"]] == [signature]
    # Every blob of every platform is served by the target: a full pull from it succeeds.
    pulled = tmp_path / "pulled"
    assert skopeo_pull_layout(server, "docker-target/app:latest-new", pulled, "latest-new") == index_digest
    # The ledger: where this digest went, and who sent it.
    ledger = api.get(f"{server.url}/api/promotions/", params={"digest": index_digest}).json()["results"]
    assert [(j["requested_by"], j["source"], j["target"]) for j in ledger] == [
        ("admin", "docker-local/app:latest", "docker-target/app:latest-new"),
    ]


def test_rest_promotion_refused_by_the_target_says_why(server, api, tmp_path):
    server.manage(
        "shell",
        "-c",
        (
            "from repos.models import Repository; Repository.objects.update_or_create(key='docker-prod', "
            "defaults={'required_platforms': ['linux/amd64', 'linux/arm64', 'linux/s390x']})"
        ),
    )
    push(server, tmp_path, "refused", "1.0", content="refused")
    response = api.post(
        f"{server.url}/api/docker/docker-local/v2/promote",
        json={
            "targetRepo": "docker-prod",
            "dockerRepository": "refused",
            "tag": "1.0",
            "copy": True,
        },
    )
    assert response.status_code == 409, response.text
    error = response.json()["errors"][0]
    assert "linux/s390x" in error["message"]
    assert tags(api, server, "docker-prod/refused") == set()


def test_duplicate_deliveries_of_one_job_have_one_effect(server, api, tmp_path):
    index_digest = push(server, tmp_path, "dup", "1.0", content="dup")
    job_id = int(
        server.manage(
            "shell",
            "-c",
            (
                "from django.contrib.auth import get_user_model\n"
                "from repos.promotion.execution import PromotionRequest\n"
                "from repos.promotion.jobs import promotion_job_create\n"
                "job = promotion_job_create(request=PromotionRequest(source_key='docker-local', source_image='dup', "
                "target_key='docker-target', source_tag='1.0'), user=get_user_model().objects.get(username='admin'))"
                "\nprint(job.pk)"
            ),
        ).split()[-1]
    )
    broker = Celery(broker=server.env["REDIS_URL"])
    for _ in range(3):  # the same message, three times, to a worker running two processes
        broker.send_task("repos.run_promotion", kwargs={"job_id": job_id}, queue=server.env["CELERY_QUEUE"])
    log = server.data_dir / "worker.log"
    wait_until(lambda: log.read_text().count(f"promotion job {job_id} is not queued") >= 2, what="the duplicates")
    finished = wait_until(
        lambda: (j := job(api, server, job_id))["status"] in ("succeeded", "failed") and j,
        what="the one run that claimed it",
    )  # it may still be running when the others are done
    assert finished["status"] == "succeeded" and finished["attempts"] == 1
    assert tags(api, server, "docker-target/dup") == {"1.0", "1.0-linux-amd64", "1.0-linux-arm64"}
    ledger = api.get(f"{server.url}/api/promotions/", params={"digest": index_digest}).json()["results"]
    assert [j["id"] for j in ledger] == [job_id]


def test_browser_preview_then_confirm_runs_on_the_worker(server, api, tmp_path, browser):
    """Real Chromium: the form, its preview (CSRF, CSP as served), confirm, and the job page refreshing itself."""
    index_digest = push(server, tmp_path, "browser", "1.0", content="browser")
    page = browser.new_page()
    try:
        page.goto(
            f"{server.url}/accounts/login/?next=/promotions/new/%3Frepository%3Ddocker-local"
            "%26image%3Dbrowser%26tag%3D1.0"
        )
        page.fill("#id_username", "admin")
        page.fill("#id_password", server.admin_password)
        with page.expect_navigation(url=re.compile(r"/promotions/new/\?")):
            page.click("button[type=submit]")
        assert page.input_value("#id_image") == "browser" and page.input_value("#id_source_tag") == "1.0"
        page.select_option("#id_target_repository", "docker-target")
        page.fill("#id_target_tag", "1.0-rc")
        page.check("input[name=mode][value=copy]")
        with page.expect_navigation():
            page.click("button[name=preview]")
        rows = page.locator("table.plan-tags tbody tr").all_inner_texts()
        assert [row.split("\t")[:3] for row in rows] == [
            ["1.0-rc", "created", "1.0 (renamed)"],
            ["1.0-rc-linux-amd64", "created", "1.0-linux-amd64 (renamed)"],
            ["1.0-rc-linux-arm64", "created", "1.0-linux-arm64 (renamed)"],
        ]
        assert tags(api, server, "docker-target/browser") == set()  # a preview changes nothing
        with page.expect_navigation(url=re.compile(r"/promotions/\d+/$")):
            page.click("button[name=confirm]")
        page.locator(".promostatus.s-succeeded").wait_for(timeout=30000)  # the page refreshes itself
        assert index_digest in page.content()
    finally:
        page.close()
    assert tags(api, server, "docker-target/browser") == {"1.0-rc", "1.0-rc-linux-amd64", "1.0-rc-linux-arm64"}
    assert "1.0" in tags(api, server, "docker-local/browser")  # a copy


def test_worker_killed_mid_promotion_leaves_target_untouched_then_the_job_reruns(server, api, tmp_path):
    database_url = require_postgresql(server.env.get("DATABASE_URL"))
    index_digest = push(server, tmp_path, "killed", "1.0", content="killed")
    # The source image locked by the test: the run claims its job, opens its transaction, makes the target
    # image, then waits for the lock. A wide window to kill the worker in, inside the transaction.
    with image_row_locked(database_url, repository="docker-local", image="killed"):
        created = api.post(
            f"{server.url}/api/promotions/",
            json={
                "source_repository": "docker-local",
                "image": "killed",
                "target_repository": "docker-target",
                "source_tag": "1.0",
                "target_tag": "stable",
            },
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        wait_for_lock_waiter(database_url, what="the worker to block inside the promotion's transaction")
        assert job(api, server, job_id)["status"] == "running"
        worker = server.extra.pop("worker")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        server.workers.remove(worker)

    assert job(api, server, job_id)["status"] == "running"
    assert tags(api, server, "docker-target/killed") == set()  # nothing of the killed run is visible
    assert tags(api, server, "docker-local/killed") == {"1.0", "1.0-linux-amd64", "1.0-linux-arm64"}

    server.extra["worker"] = server.start_worker()
    beat = server.start_beat()
    try:
        final = wait_until(
            lambda: (j := job(api, server, job_id))["status"] in ("succeeded", "failed") and j,
            timeout=90,
            what="the reconciler to re-run the job",
        )
    finally:
        server.stop_worker(beat)
    assert final["status"] == "succeeded" and final["attempts"] == 2
    assert digest_of(raw_manifest(server, "docker-target/killed:stable")) == index_digest
    assert tags(api, server, "docker-target/killed") == {"stable", "stable-linux-amd64", "stable-linux-arm64"}
    assert tags(api, server, "docker-local/killed") == set()
