"""Carrying out a GC plan safely while pushes, mounts and promotions go on.

Each step re-checks its candidates inside a short transaction, after taking the row locks the
writers take (image, then membership; manifest; repository links, then blob), so a writer either
commits first (and the re-check sees its reference) or waits and finds the row gone. Blob bytes
are deleted inside the transaction that deletes the row, so an upload that finds the bytes
already stored has reserved the row (blob_guard.blob_reserve) and GC then leaves both alone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from repos.models import (
    Blob,
    GcRun,
    Image,
    ImageManifest,
    Manifest,
    ManifestLayer,
    ManifestListEntry,
    RepositoryBlob,
    Tag,
)
from repos.services.gc.plan import GcPlan, gc_plan_build
from repos.storage import get_blob_store

logger = logging.getLogger(__name__)

BATCH = 500
RECORDED_DIGESTS = 200  # per kind, in GcRun.removed
STALE_RUN = timedelta(hours=6)


class GcAlreadyRunning(Exception):
    def __init__(self, run: GcRun):
        super().__init__(f"garbage collection #{run.pk} is already running (started {run.started:%Y-%m-%d %H:%M})")
        self.run = run


def gc_run(
    *,
    grace_seconds: int | None = None,
    untagged_age_seconds: int | None = None,
    dry_run: bool = False,
    trigger: str = GcRun.Trigger.COMMAND,
) -> GcRun:
    """Collect garbage (or only report it, `dry_run`); the run is recorded as a GcRun row."""
    grace = settings.REGISTRY_GC_GRACE_SECONDS if grace_seconds is None else int(grace_seconds)
    untagged = settings.REGISTRY_GC_UNTAGGED_AGE_SECONDS if untagged_age_seconds is None else int(untagged_age_seconds)
    running = GcRun.objects.filter(
        status=GcRun.Status.RUNNING, dry_run=False, started__gte=timezone.now() - STALE_RUN
    ).first()
    if running is not None and not dry_run:
        raise GcAlreadyRunning(running)
    run = GcRun.objects.create(trigger=trigger, dry_run=dry_run, grace_seconds=grace, untagged_age_seconds=untagged)
    try:
        plan = gc_plan_build(grace_seconds=grace, untagged_age_seconds=untagged)
        if dry_run:
            _record_plan(run, plan)
        else:
            _execute(run, plan)
        run.status = GcRun.Status.SUCCEEDED
    except Exception as exc:
        run.status = GcRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"
        logger.exception("garbage collection #%s failed", run.pk)
        raise
    finally:
        run.finished = timezone.now()
        run.save()
    logger.info(
        "garbage collection #%s%s: %d untagged manifests, %d manifests, %d blobs, %d orphan files, %d bytes",
        run.pk,
        " (dry run)" if dry_run else "",
        run.memberships_removed,
        run.manifests_removed,
        run.blobs_removed,
        run.orphan_files_removed,
        run.bytes_reclaimed,
    )
    return run


def _record_plan(run: GcRun, plan: GcPlan) -> None:
    run.memberships_removed = plan.membership_count
    run.manifests_removed = len(plan.manifest_ids)
    run.blobs_removed = len(plan.blob_ids)
    run.orphan_files_removed = len(plan.orphans)
    run.bytes_reclaimed = plan.bytes_reclaimable
    run.removed = {
        "manifests": list(plan.manifest_digests.values())[:RECORDED_DIGESTS],
        "blobs": list(plan.blob_digests.values())[:RECORDED_DIGESTS],
        "orphans": list(plan.orphans)[:RECORDED_DIGESTS],
    }


def _execute(run: GcRun, plan: GcPlan) -> None:
    removed: dict[str, list[str]] = {"manifests": [], "blobs": [], "orphans": []}
    for image_id, membership_ids in plan.memberships.items():
        done, skipped = _guarded(len(membership_ids), _drop_memberships, image_id, membership_ids, plan.untagged_cutoff)
        run.memberships_removed += len(done)
        run.skipped += skipped
    doomed_manifests = set(plan.manifest_ids)
    for start in range(0, len(plan.manifest_ids), BATCH):
        batch = plan.manifest_ids[start : start + BATCH]
        done, skipped = _guarded(len(batch), _drop_manifests, batch, doomed_manifests, plan.grace_cutoff)
        run.manifests_removed += len(done)
        run.skipped += skipped
        removed["manifests"].extend(plan.manifest_digests[pk] for pk in done)
    store = get_blob_store()
    for start in range(0, len(plan.blob_ids), BATCH):
        batch = plan.blob_ids[start : start + BATCH]
        done, skipped = _guarded(len(batch), _drop_blobs, store, batch, plan.grace_cutoff)
        run.blobs_removed += len(done)
        run.skipped += skipped
        run.bytes_reclaimed += sum(plan.stored_sizes.get(digest, 0) for digest in done)
        removed["blobs"].extend(done)
    for digest, size in plan.orphans.items():
        done, skipped = _guarded(1, _drop_orphan, store, digest)
        run.orphan_files_removed += len(done)
        run.bytes_reclaimed += size * len(done)
        run.skipped += skipped
        removed["orphans"].extend(done)
    run.removed = {kind: digests[:RECORDED_DIGESTS] for kind, digests in removed.items()}


def _guarded(candidates: int, step, *args) -> tuple[list, int]:
    """Run one step; a deadlock or a reference that appeared meanwhile only skips its candidates
    (the next run looks at them again)."""
    try:
        return step(*args)
    except (DatabaseError, ProtectedError) as exc:
        logger.warning("garbage collection: %s skipped %d candidate(s) (%s)", step.__name__, candidates, exc)
        return [], candidates


def _drop_memberships(image_id: int, membership_ids: list[int], untagged_cutoff: datetime):
    with transaction.atomic():
        # The image lock orders us with promotions (which lock both images in primary-key order).
        if not Image.objects.select_for_update().filter(pk=image_id).exists():
            return [], 0
        rows = list(
            ImageManifest.objects.select_for_update()
            .filter(pk__in=membership_ids, pushed_at__lt=untagged_cutoff)
            .order_by("pk")
            .values_list("pk", "manifest_id")
        )
        candidates = {manifest_id: pk for pk, manifest_id in rows}
        keep = _still_reached(image_id, candidates)
        doomed = [pk for manifest_id, pk in candidates.items() if manifest_id not in keep]
        ImageManifest.objects.filter(pk__in=doomed).delete()
    return doomed, len(membership_ids) - len(doomed)


def _still_reached(image_id: int, candidates: dict[int, int]) -> set[int]:
    """Candidates the image reaches now through anything that is not itself a candidate."""
    ids = set(candidates)
    keep = set(Tag.objects.filter(image_id=image_id, manifest_id__in=ids).values_list("manifest_id", flat=True))
    others = ImageManifest.objects.filter(image_id=image_id).exclude(manifest_id__in=ids).values("manifest_id")
    keep |= set(
        ManifestListEntry.objects.filter(manifest_id__in=ids, index_id__in=others).values_list("manifest_id", flat=True)
    )
    subjects = set(Manifest.objects.filter(pk__in=others).values_list("digest", flat=True))
    keep |= (
        set(Manifest.objects.filter(pk__in=ids, subject_digest__in=subjects).values_list("pk", flat=True))
        if subjects
        else set()
    )
    return keep


def _drop_manifests(batch: list[int], doomed: set[int], grace_cutoff: datetime):
    with transaction.atomic():
        rows = list(
            Manifest.objects.select_for_update()
            .filter(pk__in=batch, created__lt=grace_cutoff)
            .order_by("pk")
            .values_list("pk", "media_type")
        )
        ids = {pk for pk, _ in rows}
        busy = set(ImageManifest.objects.filter(manifest_id__in=ids).values_list("manifest_id", flat=True))
        busy |= set(Tag.objects.filter(manifest_id__in=ids).values_list("manifest_id", flat=True))
        busy |= set(
            ManifestListEntry.objects.filter(manifest_id__in=ids)
            .exclude(index_id__in=doomed)
            .values_list("manifest_id", flat=True)
        )
        free = [pk for pk in batch if pk in ids and pk not in busy]  # batch order: indexes first
        deleted: list[int] = []
        for pk in free:
            try:
                with transaction.atomic():
                    ManifestLayer.objects.filter(manifest_id=pk).delete()
                    ManifestListEntry.objects.filter(index_id=pk).delete()
                    Manifest.objects.filter(pk=pk).delete()
            except ProtectedError:  # something added meanwhile (or another app's row) still needs it
                continue
            deleted.append(pk)
    return deleted, len(batch) - len(deleted)


def _drop_blobs(store, batch: list[int], grace_cutoff: datetime):
    with transaction.atomic():
        # Links before blobs: the order manifest pushes lock them in (links, then the blob's key).
        list(RepositoryBlob.objects.select_for_update().filter(blob_id__in=batch).order_by("pk").values_list("pk"))
        rows = dict(
            Blob.objects.select_for_update()
            .filter(pk__in=batch, touched__lt=grace_cutoff)
            .order_by("pk")
            .values_list("pk", "digest")
        )
        used = set(ManifestLayer.objects.filter(blob_id__in=rows).values_list("blob_id", flat=True))
        used |= set(Manifest.objects.filter(config_blob_id__in=rows).values_list("config_blob_id", flat=True))
        free = {pk: digest for pk, digest in rows.items() if pk not in used}
        RepositoryBlob.objects.filter(blob_id__in=free).delete()
        Blob.objects.filter(pk__in=free).delete()
        # Inside the transaction: an upload of these bytes waits on the row until they are gone.
        store.delete_many(free.values())
    return list(free.values()), len(batch) - len(free)


def _drop_orphan(store, digest: str):
    """Bytes without a row: hold the digest with a placeholder row while deleting them, so an
    upload committing the same bytes right now waits (unique digest) and then writes them anew."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                Blob.objects.create(digest=digest, size=0, touched=datetime(1970, 1, 2, tzinfo=UTC))
        except IntegrityError:
            return [], 1
        store.delete(digest)
        Blob.objects.filter(digest=digest).delete()
    return [digest], 0
