"""Concurrent promotions into one target tag, with real threads and real database transactions."""

import threading
import time

import pytest
from django.db import connection, connections

from repos.models import PromotionJob, Tag
from repos.promotion.execution import PromotionRequest
from repos.promotion.jobs import promotion_job_create, promotion_job_run, promotion_jobs_reconcile
from repos.tests.promotion.content import AMD64, ARM64, ARMV7, S390X, push_index

pytestmark = pytest.mark.django_db(transaction=True)
Status = PromotionJob.Status


@pytest.fixture(autouse=True)
def postgresql(db):
    if connection.vendor == "sqlite":
        # pytest-django's in-memory SQLite answers "table is locked" to a second thread at once.
        pytest.skip("threads need PostgreSQL (CI sets DATABASE_URL); SQLite serializes writers anyway")


def in_thread(fn, **kwargs) -> threading.Thread:
    def run():
        try:
            fn(**kwargs)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def queued(user, image: str) -> PromotionJob:
    request = PromotionRequest(
        source_key="docker-local",
        source_image=image,
        target_key="docker-target",
        target_image="app",
        source_tag="latest",
        target_tag="prod",
        copy=True,
    )
    return promotion_job_create(request=request, user=user, enqueue=False)


def target_state() -> dict[str, str]:
    return {t.name: t.manifest.digest for t in Tag.objects.filter(image__repository__key="docker-target")}


def expected_state(pushed) -> dict[str, str]:
    state = {"prod": pushed.digest}
    for platform, digest in pushed.children.items():
        state["prod-" + platform.replace("/", "-")] = digest
    return state


def test_two_promotions_into_one_tag_serialize(source, target, admin, settings):
    # Hold each finished transaction open a moment, so the two runs overlap in time.
    settings.PROMOTION_FAULT_PAUSE_SECONDS = 0.5
    one = push_index(source, "one", "latest", (AMD64, ARM64, ARMV7), payload=b"one")
    two = push_index(source, "two", "latest", (AMD64, S390X), payload=b"two")
    for _ in range(3):
        jobs = [queued(admin, "one"), queued(admin, "two")]
        threads = [in_thread(promotion_job_run, job_id=job.pk) for job in jobs]
        for thread in threads:
            thread.join(timeout=60)
        finished = sorted(PromotionJob.objects.filter(pk__in=[j.pk for j in jobs]), key=lambda j: j.finished)
        assert [j.status for j in finished] == [Status.SUCCEEDED, Status.SUCCEEDED]
        # The second to commit waited for the first: it started its transaction after the first committed,
        # so it saw and replaced every per-arch tag of the first. The target is one whole promotion.
        last = one if finished[-1].source_image == "one" else two
        assert target_state() == expected_state(last)


def test_reconciler_skips_a_running_job_whose_worker_is_alive(source, target, admin, settings):
    settings.PROMOTION_FAULT_PAUSE_SECONDS = 2
    pushed = push_index(source, "one", "latest", payload=b"alive")
    job = queued(admin, "one")
    worker = in_thread(promotion_job_run, job_id=job.pk)
    deadline = time.monotonic() + 10
    while PromotionJob.objects.get(pk=job.pk).status == Status.QUEUED and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # inside its transaction now, holding the job row

    outcome = promotion_jobs_reconcile(stale_after=0)

    worker.join(timeout=60)
    assert outcome["requeued"] == [] and outcome["failed"] == []
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and job.attempts == 1
    assert target_state() == expected_state(pushed)
