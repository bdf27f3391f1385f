"""REST: `expected_digest` pins what the caller checked; a source that moved is refused (409, source-changed).

Runs on SQLite by default and on PostgreSQL with DATABASE_URL (as CI does): the check happens when the job
is asked for and again inside the run's transaction, and both must hold on either database.
"""

import pytest

from repos.models import PromotionJob, Tag
from repos.promotion.jobs import promotion_job_run
from repos.tests.promotion.content import push_index
from tests.support.content import ARMV7

IMAGE = "multiarch-image"


@pytest.fixture
def api(client, admin):
    client.force_login(admin)

    def post(**body):
        data = {"source_repository": "docker-local", "image": IMAGE, "target_repository": "docker-target"}
        data.update(body)
        return client.post("/api/promotions/", data, content_type="application/json")

    return post


def target_tags(target) -> dict[str, str]:
    return dict(Tag.objects.filter(image__repository=target).values_list("name", "manifest__digest"))


def source_tags(source) -> dict[str, str]:
    return dict(Tag.objects.filter(image__repository=source).values_list("name", "manifest__digest"))


def refusal(response) -> dict:
    error = response.json()["errors"][0]
    assert error["code"] == "PROMOTION_REFUSED"
    [found] = error["detail"]["refusals"]
    return found


def test_dry_run_answers_the_digest_to_pin(api, source, target):
    pushed = push_index(source, IMAGE, "latest")
    plan = api(source_tag="latest", dry_run=True).json()
    assert plan["source_digest"] == pushed.digest
    assert plan["source_digests"] == {"latest": pushed.digest}


def test_matching_expected_digest_promotes_and_is_kept_on_the_job(api, source, target):
    pushed = push_index(source, IMAGE, "latest")
    response = api(source_tag="latest", copy=True, expected_digest=pushed.digest)
    assert response.status_code == 202, response.content
    assert response.json()["expected_digests"] == {"latest": pushed.digest}
    job = promotion_job_run(job_id=response.json()["id"])
    assert job.status == "succeeded"
    assert target_tags(target)["latest"] == pushed.digest


def test_moved_source_is_refused_with_both_digests_and_nothing_changes(api, source, target):
    previewed = push_index(source, IMAGE, "latest").digest
    moved = push_index(source, IMAGE, "latest", payload=b"rebuilt").digest
    before = source_tags(source)

    response = api(source_tag="latest", expected_digest=previewed)

    assert response.status_code == 409, response.content
    found = refusal(response)
    assert found["rule"] == "source-changed"
    assert found["detail"]["changed"] == [{"tag": "latest", "previewed": previewed, "current": moved}]
    assert previewed in found["message"] and moved in found["message"]
    assert not PromotionJob.objects.exists()
    assert target_tags(target) == {}
    assert source_tags(source) == before


def test_source_moved_after_queueing_fails_the_job_and_changes_nothing(api, source, target):
    previewed = push_index(source, IMAGE, "latest").digest
    response = api(source_tag="latest", expected_digest=previewed)  # a move (the API default)
    assert response.status_code == 202
    moved = push_index(source, IMAGE, "latest", payload=b"pushed while queued").digest
    before = source_tags(source)

    job = promotion_job_run(job_id=response.json()["id"])

    assert (job.status, job.error_code) == ("failed", "PROMOTION_REFUSED")
    [found] = job.result["refusals"]
    assert found["rule"] == "source-changed"
    assert found["detail"]["changed"] == [{"tag": "latest", "previewed": previewed, "current": moved}]
    assert target_tags(target) == {}
    assert source_tags(source) == before


def test_deleted_source_tag_is_a_changed_source_not_an_unknown_one(api, source, target):
    previewed = push_index(source, IMAGE, "latest").digest
    Tag.objects.filter(image__repository=source, name="latest").delete()
    response = api(source_tag="latest", expected_digest=previewed)
    assert response.status_code == 409
    assert refusal(response)["detail"]["changed"] == [{"tag": "latest", "previewed": previewed, "current": ""}]


def test_expected_digests_pin_every_tag_of_an_all_tags_promotion(api, source, target):
    one = push_index(source, IMAGE, "1.0").digest
    two = push_index(source, IMAGE, "2.0", payload=b"two").digest
    pinned = api(dry_run=True).json()["source_digests"]
    assert pinned == {"1.0": one, "2.0": two}
    push_index(source, IMAGE, "3.0", platforms=(ARMV7,))  # a tag that the preview did not show

    response = api(copy=True, expected_digests=pinned)

    assert response.status_code == 409
    changed = refusal(response)["detail"]["changed"]
    assert [(c["tag"], c["previewed"]) for c in changed] == [("3.0", "")]
    assert api(copy=True, expected_digests={**pinned, "3.0": changed[0]["current"]}).status_code == 202


@pytest.mark.parametrize(
    "body, field",
    [
        ({"expected_digest": "sha256:" + "a" * 64}, "expected_digest"),  # which tag? needs source_tag
        ({"source_tag": "latest", "expected_digest": "sha256:" + "a" * 64, "expected_digests": {}}, "expected_digests"),
    ],
)
def test_ambiguous_pins_are_bad_requests(api, source, target, body, field):
    push_index(source, IMAGE, "latest")
    response = api(**body)
    assert response.status_code == 400
    assert field in response.json()["errors"][0]["detail"]
    assert not PromotionJob.objects.exists()


@pytest.mark.parametrize("digest", ["sha256:../../etc", "latest", "sha256:" + "z" * 64])
def test_malformed_expected_digest_is_a_bad_request(api, source, target, digest):
    push_index(source, IMAGE, "latest")
    response = api(source_tag="latest", expected_digest=digest)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PROMOTION_INVALID"
    assert not PromotionJob.objects.exists()


def test_artifactory_promote_keeps_its_semantics(client, source, target, admin, settings):
    """Artifactory's call has no expected digest: it promotes what the tag holds when the job runs."""
    settings.PROMOTION_WAIT_SECONDS = 0
    push_index(source, IMAGE, "latest")
    client.force_login(admin)
    response = client.post(
        "/api/docker/docker-local/v2/promote",
        {"targetRepo": "docker-target", "dockerRepository": IMAGE, "tag": "latest", "copy": True},
        content_type="application/json",
    )
    assert response.status_code == 202
    moved = push_index(source, IMAGE, "latest", payload=b"moved before the run").digest
    job = promotion_job_run(job_id=response.json()["id"])
    assert job.status == "succeeded" and job.expected_digests is None
    assert target_tags(target)["latest"] == moved
