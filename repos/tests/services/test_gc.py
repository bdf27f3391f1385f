"""Garbage collection removes exactly what nothing reaches, and nothing that is about to be used."""

import io
import os
import time

import pytest
from django.core.management import call_command

from repos.models import Blob, GcRun, Image, ImageManifest, Manifest, RepositoryBlob
from repos.oci import media_types
from repos.promotion.execution import PromotionRequest, promotion_execute
from repos.services.gc import GcAlreadyRunning, gc_run
from repos.services.manifests import manifest_delete, manifest_put, tag_delete
from repos.services.uploads import blob_mount, blob_push_monolithic
from repos.storage import get_blob_store
from repos.tests.promotion.content import push_blob, push_image, push_index
from tests.support import content as f
from tests.support.content import AMD64, ARM64
from tests.support.factories import RepositoryFactory


@pytest.fixture
def local(db, blob_storage):
    return RepositoryFactory(key="docker-local")


@pytest.fixture
def target(db):
    return RepositoryFactory(key="docker-target")


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser(username="gc-admin", password="pw-gc-admin-1")


def stored() -> set[str]:
    return set(get_blob_store().iter_digests())


def manifest_digests() -> set[str]:
    return set(Manifest.objects.values_list("digest", flat=True))


def read(digest: str) -> bytes:
    with get_blob_store().open(digest) as handle:
        return handle.read()


def test_gc_removes_exactly_the_unreferenced_content(local, target, admin):
    # Kept: a signed multi-arch index promoted (moved) from docker-local to docker-target.
    promoted = push_index(local, "app", "1.0", signed=True, payload=b"app")
    promotion_execute(
        request=PromotionRequest(
            source_key="docker-local", source_image="app", target_key="docker-target", source_tag="1.0"
        ),
        user=admin,
    )
    # Kept: a layer shared with an image of another repository, after docker-local's image is dropped.
    shared_raw, shared_digest, shared_blobs = push_image(local, "base", AMD64, reference="stable", payload=b"shared")
    shared_layer = _blobs_of(shared_digest) - {Manifest.objects.get(digest=shared_digest).config_blob.digest}
    other_config = f.image_config(architecture="amd64", history=[{"created_by": "another build"}])
    push_blob(target, "copy-of-base", other_config)
    push_blob(target, "copy-of-base", _content_of(next(iter(shared_layer))))
    raw = f.image_manifest(config=other_config, layers=[_content_of(next(iter(shared_layer)))], oci=True)
    manifest_put(
        repository=target, image_name="copy-of-base", reference="stable", raw=raw, content_type=media_types.OCI_MANIFEST
    )
    # Kept: an untagged manifest younger than the untagged age (pushed by digest a moment ago) — checked below.
    # Garbage: an image whose only tag was deleted, its unique blobs, an index whose tag was deleted
    # (with its children), a blob uploaded but never used, and bytes in the store with no row at all.
    _, junk_digest, junk_blobs = push_image(local, "junk", ARM64, reference="old", payload=b"junk")
    tag_delete(image=Image.objects.get(repository=local, name="junk"), name="old")
    old_index = push_index(local, "gone", "1", payload=b"gone")
    tag_delete(image=Image.objects.get(repository=local, name="gone"), name="1")
    stray = push_blob(local, "app", b"uploaded, never referenced")
    orphan = f.digest_of(b"bytes a crash left without a row")
    path = get_blob_store().local_path(orphan)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(b"bytes a crash left without a row")
    ten_minutes_ago = time.time() - 600
    os.utime(path, (ten_minutes_ago, ten_minutes_ago))
    # The "base" image's tag is removed too, but its layer is also used by docker-target's image.
    tag_delete(image=Image.objects.get(repository=local, name="base"), name="stable")

    keep_blobs = promoted.blobs | _blobs_of(promoted.referrers[0]) | _blobs_of(f.digest_of(raw))
    garbage_manifests = {junk_digest, shared_digest, old_index.digest, *old_index.children.values()}
    garbage_blobs = (junk_blobs | old_index.blobs | {stray} | shared_blobs) - keep_blobs
    # (configs are shared between same-platform images, so several "garbage" configs stay)
    assert shared_layer <= keep_blobs and stray in garbage_blobs and len(garbage_blobs) >= 4

    preview = gc_run(grace_seconds=0, untagged_age_seconds=0, dry_run=True)
    assert manifest_digests() >= garbage_manifests  # a dry run removes nothing

    before = stored()
    run = gc_run(grace_seconds=0, untagged_age_seconds=0)
    removed_bytes = before - stored()

    assert removed_bytes == garbage_blobs | {orphan}
    assert manifest_digests().isdisjoint(garbage_manifests)
    assert {promoted.digest, *promoted.children.values(), *promoted.referrers} <= manifest_digests()
    assert keep_blobs <= stored()
    assert run.status == GcRun.Status.SUCCEEDED
    assert run.blobs_removed == len(garbage_blobs) and run.orphan_files_removed == 1
    assert run.manifests_removed == len(garbage_manifests)
    expected_bytes = sum(len(_content_of(d)) for d in garbage_blobs) + len(b"bytes a crash left without a row")
    assert run.bytes_reclaimed == expected_bytes
    assert (preview.blobs_removed, preview.manifests_removed, preview.bytes_reclaimed) == (
        run.blobs_removed,
        run.manifests_removed,
        run.bytes_reclaimed,
    )
    # A second run finds nothing left to do.
    again = gc_run(grace_seconds=0, untagged_age_seconds=0)
    assert (again.blobs_removed, again.manifests_removed, again.bytes_reclaimed) == (0, 0, 0)


_CONTENT: dict[str, bytes] = {}


def _content_of(digest: str) -> bytes:
    return _CONTENT[digest]


@pytest.fixture(autouse=True)
def _remember_pushed_bytes(monkeypatch):
    """Record the bytes of every pushed blob so reclaimed sizes can be checked exactly."""
    import repos.tests.promotion.content as content

    original = content.push_blob

    def remembering(repository, image, data):
        _CONTENT[f.digest_of(data)] = data
        return original(repository, image, data)

    monkeypatch.setattr(content, "push_blob", remembering)
    monkeypatch.setattr(__import__(__name__, fromlist=["push_blob"]), "push_blob", remembering)


def _blobs_of(manifest_digest: str) -> set[str]:
    manifest = Manifest.objects.get(digest=manifest_digest)
    assert manifest.config_blob is not None
    return {manifest.config_blob.digest, *manifest.layers.values_list("blob__digest", flat=True)}


def test_untagged_manifests_stay_until_the_untagged_age(local):
    _, digest, blobs = push_image(local, "by-digest", AMD64)
    run = gc_run(grace_seconds=0, untagged_age_seconds=3600)
    assert run.manifests_removed == 0 and digest in manifest_digests() and blobs <= stored()
    gc_run(grace_seconds=0, untagged_age_seconds=0)
    assert digest not in manifest_digests() and not (blobs & stored())


def test_the_grace_window_keeps_recent_unreferenced_blobs(local):
    digest = push_blob(local, "app", b"just uploaded, manifest not pushed yet")
    run = gc_run(grace_seconds=3600)
    assert run.blobs_removed == 0 and digest in stored()


def test_an_upload_that_finds_the_bytes_stored_protects_them(local, target):
    """An old unreferenced blob is re-uploaded: the upload touches it, so GC keeps it for the push."""
    data = b"old bytes nobody references"
    digest = push_blob(local, "app", data)
    Blob.objects.filter(digest=digest).update(touched="2000-01-01T00:00:00Z")
    blob_push_monolithic(repository=target, image_name="app", digest=digest, stream=io.BytesIO(data), length=len(data))
    assert gc_run(grace_seconds=60).blobs_removed == 0
    assert read(digest) == data


def test_a_mount_and_a_head_protect_an_old_blob(local, target, client, admin):
    data = b"mounted bytes"
    digest = push_blob(local, "app", data)
    Blob.objects.filter(digest=digest).update(touched="2000-01-01T00:00:00Z")
    assert blob_mount(repository=target, digest=digest, source=local) is not None
    assert gc_run(grace_seconds=60).blobs_removed == 0

    Blob.objects.filter(digest=digest).update(touched="2000-01-01T00:00:00Z")
    client.force_login(admin)
    assert client.head(f"/v2/docker-local/app/blobs/{digest}").status_code == 200
    assert gc_run(grace_seconds=60).blobs_removed == 0
    assert read(digest) == data


def test_a_manifest_push_by_digest_again_refreshes_its_age(local):
    raw, digest, _ = push_image(local, "app", AMD64)
    ImageManifest.objects.filter(manifest__digest=digest).update(pushed_at="2000-01-01T00:00:00Z")
    push_image(local, "app", AMD64)  # the same bytes again
    assert gc_run(grace_seconds=0, untagged_age_seconds=3600).memberships_removed == 0


def test_a_blob_removed_from_a_repository_is_collected_when_unreferenced(local):
    digest = push_blob(local, "app", b"to be unlinked")
    assert RepositoryBlob.objects.filter(blob__digest=digest).exists()
    gc_run(grace_seconds=0)
    assert not Blob.objects.filter(digest=digest).exists() and digest not in stored()


def test_deleting_an_index_then_gc_frees_children_and_blobs(local):
    pushed = push_index(local, "multi", "2.0", payload=b"multi")
    image = Image.objects.get(repository=local, name="multi")
    manifest_delete(image=image, digest=pushed.digest)
    run = gc_run(grace_seconds=0)
    assert run.manifests_removed == 3
    assert not (pushed.blobs & stored())


def test_only_one_real_run_at_a_time(local):
    GcRun.objects.create(grace_seconds=0, untagged_age_seconds=0)
    with pytest.raises(GcAlreadyRunning):
        gc_run(grace_seconds=0)
    assert gc_run(grace_seconds=0, dry_run=True).status == GcRun.Status.SUCCEEDED


def test_gc_command_reports_and_dry_run_keeps(local, capsys):
    digest = push_blob(local, "app", b"x" * 1000)
    call_command("gc", "--dry-run", "--grace", "0")
    out = capsys.readouterr().out
    assert "would remove" in out and "bytes reclaimed: 1000" in out and digest in stored()
    call_command("gc", "--grace", "0")
    out = capsys.readouterr().out
    assert "removed:" in out and "bytes reclaimed: 1000" in out and digest not in stored()
    assert GcRun.objects.filter(dry_run=False, bytes_reclaimed=1000).count() == 1


def test_runs_are_shown_to_site_admins(local, client, admin, django_user_model):
    gc_run(grace_seconds=0, dry_run=True)
    client.force_login(admin)
    page = client.get("/operations/")
    assert page.status_code == 200 and b"Garbage collection runs" in page.content and b"dry run" in page.content
    assert b"docker-local" in page.content
    plain = django_user_model.objects.create_user(username="plain", password="pw-plain-123")
    client.force_login(plain)
    assert client.get("/operations/").status_code == 403
    assert client.post("/operations/gc/").status_code == 403


def test_registry_check_reports_what_gc_would_free(local, capsys):
    digest = push_blob(local, "app", b"y" * 321)
    call_command("registry_check")
    out = capsys.readouterr().out
    assert "unreferenced blobs: 1" in out and digest in out and "bytes garbage collection would free: 321" in out


def test_beat_runs_gc_and_retention_and_the_task_records_a_run(local, settings):
    from repos.tasks import apply_retention, garbage_collect

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"repos.garbage_collect", "repos.apply_retention"} <= schedule
    push_blob(local, "app", b"scheduled garbage")
    Blob.objects.update(touched="2000-01-01T00:00:00Z")
    run_id = garbage_collect.run()
    run = GcRun.objects.get(pk=run_id)
    assert run.trigger == "schedule" and run.blobs_removed == 1
    assert apply_retention.run() == 0
