"""Issue 12, defect 6: a manifest PUT racing a promotion move that empties (and deletes) the source image.

On PostgreSQL the PUT used to insert its membership row for an image the move was deleting, and failed at
commit with an IntegrityError (a 500) in 7 of 20 tries. Now the PUT locks the image row: it either waits for
the move and makes the image again, or the move waits for it and sees its new tag. Real threads, real
transactions; the move holds its finished transaction open a moment so the two overlap.
"""

import threading
import time

import pytest
from django.db import connection, connections

from repos import errors
from repos.consistency import consistency_check
from repos.models import Image, PromotionJob, Tag
from repos.oci import media_types
from repos.promotion.execution import PromotionRequest
from repos.promotion.jobs import promotion_job_create, promotion_job_run
from repos.services.manifests import manifest_put
from repos.tests import factories as f
from repos.tests.promotion.content import AMD64, push_blob, push_image

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 20
# When the PUT starts, relative to the move's transaction (seconds after the job is seen running).
DELAYS = [0.0, 0.05, 0.1, 0.2, 0.3]


@pytest.fixture(autouse=True)
def postgresql(db):
    if connection.vendor == "sqlite":
        pytest.skip("threads need PostgreSQL (CI sets DATABASE_URL); SQLite serializes writers anyway")


def _move_job(user, image: str) -> PromotionJob:
    request = PromotionRequest(
        source_key="docker-local",
        source_image=image,
        target_key="docker-target",
        target_image=image,
        source_tag="latest",
        target_tag="latest",
        copy=False,
    )
    return promotion_job_create(request=request, user=user, enqueue=False)


def _run_job(job_id: int, failures: list) -> None:
    try:
        promotion_job_run(job_id=job_id)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        failures.append(exc)
    finally:
        connections.close_all()


def test_manifest_put_racing_a_move_that_empties_the_source(source, target, admin, settings):
    settings.PROMOTION_FAULT_PAUSE_SECONDS = 0.4
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

        job = _move_job(admin, image)
        failures: list = []
        mover = threading.Thread(target=_run_job, args=(job.pk, failures))
        mover.start()
        deadline = time.monotonic() + 10
        while PromotionJob.objects.get(pk=job.pk).status == PromotionJob.Status.QUEUED:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(DELAYS[round_ % len(DELAYS)])
        try:
            manifest_put(
                repository=source,
                image_name=image,
                reference="next",
                raw=raw,
                content_type=media_types.OCI_MANIFEST,
                user=admin,
            )
        except errors.RegistryError as exc:  # a spec error the client can act on, never a 500
            assert exc.status < 500 or exc.status == 503, exc
            outcomes["spec error"] += 1
        else:
            outcomes["put succeeded"] += 1
            tag = Tag.objects.get(image__repository=source, image__name=image, name="next")
            assert tag.manifest.digest == f.digest_of(raw)
        mover.join(timeout=60)
        assert not mover.is_alive() and not failures, failures

        job.refresh_from_db()
        assert job.status == PromotionJob.Status.SUCCEEDED, (job.error_code, job.error)
        assert Tag.objects.filter(image__repository=target, image__name=image, name="latest").exists()
        assert not Tag.objects.filter(image__repository=source, image__name=image, name="latest").exists()
        assert Image.objects.filter(repository=source, name=image).count() <= 1
    report = consistency_check()
    assert report.tags_without_membership == [] and report.children_outside_image == []
    assert outcomes["put succeeded"] + outcomes["spec error"] == ROUNDS
    print(f"defect 6 race: {ROUNDS} rounds, {outcomes}")
