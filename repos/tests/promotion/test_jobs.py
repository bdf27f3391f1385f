"""Promotion jobs: one effect per job whatever the deliveries, refusals recorded, stale jobs reconciled."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from repos.models import PromotedDigest, PromotionJob, Tag
from repos.promotion.execution import JobNotRunning, PromotionRequest, promotion_execute
from repos.promotion.jobs import (
    promotion_job_create,
    promotion_job_request,
    promotion_job_run,
    promotion_job_wait,
    promotion_jobs_reconcile,
)
from repos.promotion.tasks import run_promotion
from repos.tests.promotion.content import push_index

IMAGE = "multiarch-image"
Status = PromotionJob.Status


def new_job(user, **kwargs) -> PromotionJob:
    values: dict[str, Any] = {"source_key": "docker-local", "source_image": IMAGE, "target_key": "docker-target"}
    values.update(kwargs)
    return promotion_job_create(request=PromotionRequest(**values), user=user)


def target_tags(target) -> dict[str, str]:
    return {t.name: t.manifest.digest for t in Tag.objects.filter(image__repository=target)}


def test_a_job_runs_and_records_the_ledger(source, target, admin):
    pushed = push_index(source, IMAGE, "latest", signed=True)
    job = new_job(admin, source_tag="latest", target_tag="1.0", copy=True)
    assert job.status == Status.QUEUED and job.requested_by_name == "release"

    job = promotion_job_run(job_id=job.pk)

    assert job.status == Status.SUCCEEDED
    assert job.attempts == 1 and job.started and job.finished
    assert job.result["tags_created"] == ["1.0", "1.0-linux-amd64", "1.0-linux-arm64"]
    roles = dict(PromotedDigest.objects.filter(job=job).values_list("digest", "role"))
    assert roles[pushed.digest] == "index"
    assert {roles[d] for d in pushed.children.values()} == {"manifest"}
    assert roles[pushed.referrers[0]] == "referrer"
    assert {d for d, role in roles.items() if role == "blob"} >= pushed.blobs
    assert target_tags(target)["1.0"] == pushed.digest


def test_the_same_job_delivered_twice_has_one_effect(source, target, admin):
    push_index(source, IMAGE, "latest")
    job = new_job(admin, source_tag="latest")  # a move: a second run would find nothing to move

    first = run_promotion(job_id=job.pk)
    tags_after_first = target_tags(target)
    ledger_after_first = list(PromotedDigest.objects.values_list("job_id", "digest"))
    second = run_promotion(job_id=job.pk)

    assert (first, second) == (Status.SUCCEEDED, None)
    assert target_tags(target) == tags_after_first
    assert list(PromotedDigest.objects.values_list("job_id", "digest")) == ledger_after_first
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and job.attempts == 1
    assert PromotionJob.objects.count() == 1


def test_a_refused_job_fails_with_the_reason_and_no_ledger(source, target, admin):
    target.required_platforms = ["linux/amd64", "linux/s390x"]
    target.save()
    push_index(source, IMAGE, "latest")

    job = promotion_job_run(job_id=new_job(admin, source_tag="latest").pk)

    assert job.status == Status.FAILED
    assert job.error_code == "PROMOTION_REFUSED"
    assert "linux/s390x" in job.error
    assert job.result["refusals"][0]["detail"]["missing"] == ["linux/s390x"]
    assert not PromotedDigest.objects.exists()
    assert target_tags(target) == {}


def test_a_job_for_a_vanished_tag_fails(source, target, admin):
    push_index(source, IMAGE, "latest")
    job = new_job(admin, source_tag="latest")
    Tag.objects.filter(name="latest").delete()
    job = promotion_job_run(job_id=job.pk)
    assert job.status == Status.FAILED and job.error_code == "NOT_FOUND"


def claim_as_a_worker_that_dies(job: PromotionJob, *, started_ago: float = 600) -> PromotionJob:
    """What a worker leaves behind when killed after claiming: status running, no changes committed."""
    PromotionJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, attempts=job.attempts + 1, started=timezone.now() - timedelta(seconds=started_ago)
    )
    job.refresh_from_db()
    return job


def test_reconciler_requeues_a_stale_running_job_which_then_runs(source, target, admin, settings):
    settings.PROMOTION_MAX_ATTEMPTS = 3
    pushed = push_index(source, IMAGE, "latest")
    job = claim_as_a_worker_that_dies(new_job(admin, source_tag="latest"))

    outcome = promotion_jobs_reconcile(stale_after=60)

    assert outcome["requeued"] == [job.pk]
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    job = promotion_job_run(job_id=job.pk)
    assert job.status == Status.SUCCEEDED and job.attempts == 2
    assert target_tags(target)["latest"] == pushed.digest


def test_reconciler_fails_a_job_out_of_attempts(source, target, admin, settings):
    settings.PROMOTION_MAX_ATTEMPTS = 2
    push_index(source, IMAGE, "latest")
    job = new_job(admin, source_tag="latest")
    for _ in range(2):
        job = claim_as_a_worker_that_dies(job)
        promotion_jobs_reconcile(stale_after=60)
        job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_code == "WORKER_LOST" and "2 attempts" in job.error
    assert target_tags(target) == {}


def test_reconciler_leaves_recent_running_jobs_alone(source, target, admin):
    push_index(source, IMAGE, "latest")
    job = claim_as_a_worker_that_dies(new_job(admin, source_tag="latest"), started_ago=1)
    assert promotion_jobs_reconcile(stale_after=60) == {"requeued": [], "failed": [], "resent": []}
    job.refresh_from_db()
    assert job.status == Status.RUNNING


def test_reconciler_resends_a_queued_job_whose_message_was_lost(source, target, admin):
    push_index(source, IMAGE, "latest")
    job = new_job(admin, source_tag="latest")
    PromotionJob.objects.filter(pk=job.pk).update(enqueued=timezone.now() - timedelta(hours=1))
    assert promotion_jobs_reconcile(stale_after=60)["resent"] == [job.pk]
    assert promotion_jobs_reconcile(stale_after=60)["resent"] == []  # resent once, then it waits again


def test_reconciler_sends_a_job_its_creator_never_ran(source, target, admin):
    push_index(source, IMAGE, "latest")
    # Recorded by `manage.py promote` (never sent to a worker), which then died before running it.
    job = new_job(admin)
    PromotionJob.objects.filter(pk=job.pk).update(enqueued=None)
    assert promotion_jobs_reconcile(stale_after=60)["resent"] == []
    PromotionJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(hours=1))
    assert promotion_jobs_reconcile(stale_after=60)["resent"] == [job.pk]


def test_a_run_whose_job_was_taken_back_changes_nothing(source, target, admin):
    push_index(source, IMAGE, "latest")
    job = claim_as_a_worker_that_dies(new_job(admin, source_tag="latest"))
    promotion_jobs_reconcile(stale_after=60)  # the slow first run lost its claim

    with pytest.raises(JobNotRunning):
        promotion_execute(request=promotion_job_request(job), user=admin, job=job)

    assert target_tags(target) == {}
    assert Tag.objects.filter(image__repository=source, name="latest").exists()


def test_wait_returns_once_finished(source, target, admin):
    push_index(source, IMAGE, "latest")
    job = new_job(admin, source_tag="latest", copy=True)
    assert promotion_job_wait(job=job, timeout=0).status == Status.QUEUED
    promotion_job_run(job_id=job.pk)
    assert promotion_job_wait(job=job, timeout=5).status == Status.SUCCEEDED
