"""Concurrent promotions into one target tag, with real threads and real database transactions."""

import threading

import pytest
from django.db import connection, connections

from repos.models import Image, PromotionJob, Tag
from repos.promotion.execution import PromotionRequest
from repos.promotion.jobs import promotion_job_run_here, promotion_jobs_reconcile
from repos.tests.promotion.content import push_index
from tests.support.content import AMD64, ARM64, ARMV7, S390X
from tests.support.locks import rows_locked, wait_for_lock_waiters

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


def promotion(image: str) -> PromotionRequest:
    return PromotionRequest(
        source_key="docker-local",
        source_image=image,
        target_key="docker-target",
        target_image="app",
        source_tag="latest",
        target_tag="prod",
        copy=True,
    )


def target_state() -> dict[str, str]:
    return {t.name: t.manifest.digest for t in Tag.objects.filter(image__repository__key="docker-target")}


def expected_state(pushed) -> dict[str, str]:
    state = {"prod": pushed.digest}
    for platform, digest in pushed.children.items():
        state["prod-" + platform.replace("/", "-")] = digest
    return state


def test_two_promotions_into_one_tag_serialize(source, target, admin):
    one = push_index(source, "one", "latest", (AMD64, ARM64, ARMV7), payload=b"one")
    two = push_index(source, "two", "latest", (AMD64, S390X), payload=b"two")
    target_image, _ = Image.objects.get_or_create(repository=target, name="app")
    for _ in range(3):
        # The target image locked by the test until both runs wait for it inside their transactions: they overlap.
        with rows_locked(Image.objects.filter(pk=target_image.pk)):
            threads = [
                in_thread(promotion_job_run_here, request=promotion(image), user=admin) for image in ("one", "two")
            ]
            wait_for_lock_waiters(2, what="both promotions to wait for the target image")
        for thread in threads:
            thread.join(timeout=60)
        jobs = PromotionJob.objects.order_by("-pk")[:2]
        finished = sorted(jobs, key=lambda j: j.finished)
        assert [j.status for j in finished] == [Status.SUCCEEDED, Status.SUCCEEDED]
        # The second to commit waited for the first: it started its transaction after the first committed,
        # so it saw and replaced every per-arch tag of the first. The target is one whole promotion.
        last = one if finished[-1].source_image == "one" else two
        assert target_state() == expected_state(last)


def test_reconciler_skips_a_running_job_whose_worker_is_alive(source, target, admin):
    pushed = push_index(source, "one", "latest", payload=b"alive")
    # The source image locked by the test: the run holds its job row inside its transaction, waiting.
    with rows_locked(Image.objects.filter(repository=source, name="one")):
        worker = in_thread(promotion_job_run_here, request=promotion("one"), user=admin)
        wait_for_lock_waiters(1, what="the promotion to wait inside its transaction")
        job = PromotionJob.objects.get()
        assert job.status == Status.RUNNING

        outcome = promotion_jobs_reconcile(stale_after=0)

    worker.join(timeout=60)
    assert outcome["requeued"] == [] and outcome["failed"] == []
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and job.attempts == 1
    assert target_state() == expected_state(pushed)
