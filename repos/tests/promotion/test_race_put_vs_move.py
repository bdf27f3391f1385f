"""Issue 12, defect 6: a manifest PUT racing a promotion move that empties (and deletes) the source image.

On PostgreSQL the PUT used to insert its membership row for an image the move was deleting, and failed at
commit with an IntegrityError (a 500) in 7 of 20 tries. Now the PUT locks the image row: it either waits for
the move and makes the image again, or the move waits for it and sees its new tag. Real threads, real
transactions; in every other round a lock held by the test makes the two overlap.
"""

import threading

import pytest
from django.db import connection, connections

from repos import errors
from repos.consistency import consistency_check
from repos.models import Image, PromotionJob, Tag
from repos.oci import media_types
from repos.promotion.execution import PromotionRequest
from repos.promotion.jobs import promotion_job_run_here
from repos.services.manifests import manifest_put
from repos.tests.promotion.content import push_blob, push_image
from tests.support import content as f
from tests.support.content import AMD64
from tests.support.locks import rows_locked, wait_for_lock_waiters

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 20


@pytest.fixture(autouse=True)
def postgresql(db):
    if connection.vendor == "sqlite":
        pytest.skip("threads need PostgreSQL (CI sets DATABASE_URL); SQLite serializes writers anyway")


def _move(image: str) -> PromotionRequest:
    return PromotionRequest(
        source_key="docker-local",
        source_image=image,
        target_key="docker-target",
        target_image=image,
        source_tag="latest",
        target_tag="latest",
        copy=False,
    )


def _in_thread(fn, failures: list, **kwargs) -> threading.Thread:
    def run() -> None:
        try:
            fn(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _put(outcomes: dict, **kwargs) -> None:
    try:
        manifest_put(**kwargs)
    except errors.RegistryError as exc:  # a spec error the client can act on, never a 500
        assert exc.status < 500 or exc.status == 503, exc
        outcomes["spec error"] += 1
    else:
        outcomes["put succeeded"] += 1


def test_manifest_put_racing_a_move_that_empties_the_source(source, target, admin):
    outcomes = {"put succeeded": 0, "spec error": 0}
    for round_ in range(ROUNDS):
        image = f"race-{round_}"
        push_image(source, image, AMD64, reference="latest", payload=f"old {round_}".encode())
        # The next push's blobs are already in the repository (docker uploads them before the manifest).
        config = f.image_config(architecture="arm64")
        layer = f"new layer {round_}".encode()
        push_blob(source, image, config)
        push_blob(source, image, layer)
        raw = f.image_manifest(config=config, layers=[layer], oci=True)
        put = dict(
            repository=source,
            image_name=image,
            reference="next",
            raw=raw,
            content_type=media_types.OCI_MANIFEST,
            user=admin,
        )
        failures: list = []
        if round_ % 2 == 0:
            # The move holds the source image and waits for the target image (locked by the test); the PUT
            # comes then, and waits for the move; the move empties the source and commits first.
            target_image = Image.objects.create(repository=target, name=image)
            with rows_locked(Image.objects.filter(pk=target_image.pk)):
                mover = _in_thread(promotion_job_run_here, failures, request=_move(image), user=admin)
                wait_for_lock_waiters(1, what="the move to hold the source image")
                putter = _in_thread(_put, failures, outcomes=outcomes, **put)
                wait_for_lock_waiters(2, what="the PUT to wait for the move")
        else:  # free running: the PUT as soon as the move starts
            mover = _in_thread(promotion_job_run_here, failures, request=_move(image), user=admin)
            putter = _in_thread(_put, failures, outcomes=outcomes, **put)
        for thread in (mover, putter):
            thread.join(timeout=60)
            assert not thread.is_alive()
        assert not failures, failures

        job = PromotionJob.objects.get(source_image=image)
        assert job.status == PromotionJob.Status.SUCCEEDED, (job.error_code, job.error)
        assert Tag.objects.filter(image__repository=target, image__name=image, name="latest").exists()
        assert not Tag.objects.filter(image__repository=source, image__name=image, name="latest").exists()
        assert Image.objects.filter(repository=source, name=image).count() <= 1
        next_tag = Tag.objects.filter(image__repository=source, image__name=image, name="next").first()
        assert next_tag is None or next_tag.manifest.digest == f.digest_of(raw)
    report = consistency_check()
    assert report.tags_without_membership == [] and report.children_outside_image == []
    assert outcomes["put succeeded"] + outcomes["spec error"] == ROUNDS
    print(f"defect 6 race: {ROUNDS} rounds, {outcomes}")
