"""REST: Artifactory's promote call and the promotion job resource (the worker side is run by hand here;
repos/tests/promotion/test_e2e.py runs it on a real Celery worker)."""

import base64

import pytest

from repos.models import PromotionJob, Tag
from repos.promotion.tasks import run_promotion
from repos.tests.promotion.content import push_index

IMAGE = "multiarch-image"


def basic(user: str, password: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def no_wait(settings):
    settings.PROMOTION_WAIT_SECONDS = 0


@pytest.mark.parametrize("prefix", ["", "/artifactory"])
def test_artifactory_promote_queues_a_job_with_the_same_meaning(client, source, target, admin, no_wait, prefix):
    pushed = push_index(source, IMAGE, "latest")
    body = {
        "targetRepo": "docker-target",
        "dockerRepository": IMAGE,
        "targetDockerRepository": "team/app",
        "tag": "latest",
        "targetTag": "1.0",
        "copy": True,
    }

    response = client.post(
        f"{prefix}/api/docker/docker-local/v2/promote",
        body,
        content_type="application/json",
        **basic("release", "pw-release-1"),
    )

    assert response.status_code == 202, response.content
    job = PromotionJob.objects.get()
    assert response["Location"] == f"/api/promotions/{job.pk}/"
    assert (job.source_key, job.source_image, job.source_tag) == ("docker-local", IMAGE, "latest")
    assert (job.target_key, job.target_image, job.target_tag, job.copy) == ("docker-target", "team/app", "1.0", True)
    assert job.requested_by == admin
    run_promotion(job_id=job.pk)
    detail = client.get(response["Location"], **basic("release", "pw-release-1")).json()
    assert detail["status"] == "succeeded"
    assert detail["result"]["tags_created"] == ["1.0", "1.0-linux-amd64", "1.0-linux-arm64"]
    assert Tag.objects.get(image__name="team/app", name="1.0").manifest.digest == pushed.digest


def test_artifactory_promote_defaults_to_a_move_of_every_tag(client, source, target, admin, no_wait):
    push_index(source, IMAGE, "latest")
    response = client.post(
        "/api/docker/docker-local/v2/promote",
        {"targetRepo": "docker-target", "dockerRepository": IMAGE},
        content_type="application/json",
        **basic("release", "pw-release-1"),
    )
    assert response.status_code == 202
    job = PromotionJob.objects.get()
    assert (job.copy, job.source_tag, job.target_image) == (False, "", IMAGE)


@pytest.mark.parametrize(
    "body, status, text",
    [
        ({"dockerRepository": IMAGE}, 400, "targetRepo"),
        ({"targetRepo": "nowhere", "dockerRepository": IMAGE}, 404, "nowhere"),
        ({"targetRepo": "docker-target", "dockerRepository": IMAGE, "targetTag": "x"}, 400, "source tag"),
        ({"targetRepo": "docker-target", "dockerRepository": "Bad Name"}, 400, "invalid source image"),
    ],
)
def test_artifactory_promote_errors_name_the_reason(client, source, target, admin, body, status, text):
    response = client.post(
        "/api/docker/docker-local/v2/promote", body, content_type="application/json", **basic("release", "pw-release-1")
    )
    assert response.status_code == status
    assert text in response.json()["errors"][0]["message"]
    assert not PromotionJob.objects.exists()


def test_artifactory_promote_needs_credentials(client, source, target):
    response = client.post(
        "/api/docker/docker-local/v2/promote",
        {"targetRepo": "docker-target", "dockerRepository": IMAGE},
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert not PromotionJob.objects.exists()


def test_dry_run_answers_the_plan_and_creates_no_job(client, source, target, admin):
    target.required_platforms = ["linux/amd64", "linux/s390x"]
    target.save()
    push_index(source, IMAGE, "latest")
    client.force_login(admin)
    response = client.post(
        "/api/promotions/",
        {
            "source_repository": "docker-local",
            "image": IMAGE,
            "target_repository": "docker-target",
            "source_tag": "latest",
            "target_tag": "stable",
            "dry_run": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    plan = response.json()
    assert plan["tags_created"] == ["stable", "stable-linux-amd64", "stable-linux-arm64"]
    assert plan["allowed"] is False
    assert plan["refusals"][0]["detail"]["missing"] == ["linux/s390x"]
    assert not PromotionJob.objects.exists()


def test_jobs_are_listed_with_status_and_found_by_digest(client, source, target, admin, plain_user, grant):
    pushed = push_index(source, IMAGE, "latest")
    client.force_login(admin)
    created = client.post(
        "/api/promotions/",
        {
            "source_repository": "docker-local",
            "image": IMAGE,
            "target_repository": "docker-target",
            "copy": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 202 and created.json()["status"] == "queued"
    job_id = created.json()["id"]
    run_promotion(job_id=job_id)

    listed = client.get("/api/promotions/", {"digest": pushed.children["linux/arm64"]}).json()
    assert [(j["id"], j["status"], j["requested_by"]) for j in listed["results"]] == [(job_id, "succeeded", "release")]
    assert client.get("/api/promotions/", {"digest": "sha256:" + "0" * 64}).json()["results"] == []
    assert client.get(f"/api/promotions/{job_id}/").json()["target"] == f"docker-target/{IMAGE}"

    # Someone who cannot read both repositories does not see the job.
    client.force_login(plain_user)
    grant(plain_user, source, "read")
    assert client.get("/api/promotions/").json()["results"] == []
    assert client.get(f"/api/promotions/{job_id}/").status_code == 404
    grant(plain_user, target, "read")
    assert [j["id"] for j in client.get("/api/promotions/").json()["results"]] == [job_id]


def make_token(user, permissions, repositories) -> str:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.services.tokens import token_create

    _, secret = token_create(
        creator=user,
        name="ci",
        permissions=permissions,
        repositories=repositories,
        expires_at=timezone.now() + timedelta(days=1),
    )
    return secret


@pytest.mark.parametrize(
    "permissions, outcome",
    [
        (["read"], "failed"),
        (["promote"], "failed"),  # a move also needs delete on the source
        (["promote", "delete"], "succeeded"),
    ],
)
def test_a_job_requested_with_an_api_token_is_bounded_by_its_scope(
    client, source, target, admin, no_wait, permissions, outcome
):
    push_index(source, IMAGE, "latest")
    secret = make_token(admin, permissions, [source, target])
    response = client.post(
        "/api/docker/docker-local/v2/promote",
        {"targetRepo": "docker-target", "dockerRepository": IMAGE, "tag": "latest"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 202, response.content
    job = PromotionJob.objects.get()
    assert job.requested_by == admin and job.token_id is not None

    assert run_promotion(job_id=job.pk) == outcome
    job.refresh_from_db()
    if outcome == "failed":
        assert job.error_code == "PROMOTION_REFUSED"
        assert {r["rule"] for r in job.result["refusals"]} == {"permission"}
        assert not Tag.objects.filter(image__repository=target).exists()


def test_a_token_revoked_before_the_job_runs_leaves_it_without_rights(client, source, target, admin, no_wait):
    from accounts.models import ApiToken
    from accounts.services.tokens import token_revoke

    push_index(source, IMAGE, "latest")
    secret = make_token(admin, ["promote", "delete"], [source, target])
    client.post(
        "/api/docker/docker-local/v2/promote",
        {"targetRepo": "docker-target", "dockerRepository": IMAGE},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    job = PromotionJob.objects.get()
    token_revoke(actor=admin, token=ApiToken.objects.get(pk=job.token_id))
    assert run_promotion(job_id=job.pk) == "failed"
    assert not Tag.objects.filter(image__repository=target).exists()
