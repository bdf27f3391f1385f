"""Blob uploads: stream to a staged file while hashing, verify, then commit content-addressed.

No database transaction is open while bytes move; the repository link that makes a blob visible
is written only after the blob is in place, so a half-written upload is never visible. One request at a time writes to an upload
(an exclusive lock on its staged file), so the bytes hashed are exactly the bytes stored.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from repos import errors, hash_state
from repos.models import Blob, Repository, UploadSession
from repos.oci import digests
from repos.services import blob_guard, quotas, uploads_bucket
from repos.storage import Readable, get_blob_store, get_bucket_staging, get_upload_staging

logger = logging.getLogger(__name__)


def upload_start(*, repository: Repository, image_name: str) -> UploadSession:
    limit = settings.REGISTRY_MAX_OPEN_UPLOADS
    if limit and UploadSession.objects.filter(repository=repository).count() >= limit:
        raise errors.TooManyRequests(
            "too many uploads in progress in this repository", detail={"limit": limit}, headers={"Retry-After": "60"}
        )
    session = UploadSession.objects.create(repository=repository, image_name=image_name)
    if get_bucket_staging() is not None:
        uploads_bucket.start(session)
    else:
        get_upload_staging().create(session.id.hex)
    return session


def _in_bucket(session: UploadSession) -> bool:
    return session.staging == UploadSession.Staging.BUCKET


def upload_offset(*, session: UploadSession) -> int:
    if _in_bucket(session):
        return uploads_bucket.offset(session)
    try:
        return get_upload_staging().size(session.id.hex)
    except FileNotFoundError:
        raise errors.BlobUploadUnknown(detail={"uuid": str(session.id)}) from None


def upload_append(
    *, session: UploadSession, stream: Readable, length: int | None, range_start: int | None = None
) -> int:
    """Append a chunk; returns the new offset. `range_start` comes from Content-Range."""
    if _in_bucket(session):
        return uploads_bucket.append(
            session=session,
            stream=stream,
            length=length,
            range_start=range_start,
            progress_headers=lambda offset: _progress_headers(session, offset),
        )
    upload_id = session.id.hex
    staging = get_upload_staging()
    with _exclusive(session):
        offset, hasher = _resumed(session, range_start, staging)
        # An exception here (client gone, server stopping) leaves what reached the disk: a client
        # resumes from GET's Range and the hash state is rebuilt from the staged bytes.
        written = _append(staging, upload_id, stream, hasher, length)
        new_offset = offset + written
        hash_state.keep(upload_id, offset=new_offset, hasher=hasher, staging=staging)
    UploadSession.objects.filter(pk=session.pk).update(offset=new_offset, updated=timezone.now())
    if length is not None and written != length:
        raise errors.SizeInvalid(
            f"expected {length} bytes, received {written}", headers=_progress_headers(session, new_offset)
        )
    return new_offset


def upload_complete(
    *,
    session: UploadSession,
    digest: str,
    stream: Readable | None = None,
    length: int | None = None,
    range_start: int | None = None,
) -> Blob:
    """Finish an upload with its final chunk (maybe empty) and verify the digest.

    A failed verification cancels the upload: nothing of it stays behind.
    """
    if not digests.is_valid_digest(digest):
        upload_cancel(session=session)
        raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
    if _in_bucket(session):
        return uploads_bucket.complete(
            session=session,
            digest=digest,
            stream=stream,
            length=length,
            range_start=range_start,
            progress_headers=lambda offset: _progress_headers(session, offset),
        )
    upload_id = session.id.hex
    staging = get_upload_staging()
    with _exclusive(session):
        offset, hasher = _resumed(session, range_start, staging)
        if stream is not None and length != 0:
            try:
                written = _append(staging, upload_id, stream, hasher, length)
            except Exception:
                upload_cancel(session=session)
                raise
            if length is not None and written != length:
                upload_cancel(session=session)
                raise errors.SizeInvalid(f"expected {length} bytes, received {written}")
            offset += written
        actual = digests.hasher_digest(hasher)
        if actual != digest:
            upload_cancel(session=session)
            raise errors.DigestInvalid(detail={"expected": digest, "actual": actual})
        try:
            quotas.quota_check(repository=session.repository, digest=digest, size=offset)
        except errors.Denied:
            upload_cancel(session=session)
            raise
        blob = _commit_staged(repository=session.repository, staged_id=upload_id, digest=digest, size=offset)
    UploadSession.objects.filter(pk=session.pk).delete()
    return blob


def upload_cancel(*, session: UploadSession) -> None:
    if _in_bucket(session):
        uploads_bucket.cancel(session=session)
        return
    staging = get_upload_staging()
    hash_state.forget(session.id.hex, staging=staging)
    staging.remove(session.id.hex)
    UploadSession.objects.filter(pk=session.pk).delete()


def blob_push_monolithic(
    *, repository: Repository, image_name: str, digest: str, stream: Readable, length: int | None
) -> Blob:
    session = upload_start(repository=repository, image_name=image_name)
    return upload_complete(session=session, digest=digest, stream=stream, length=length)


def blob_mount(*, repository: Repository, digest: str, source: Repository) -> Blob | None:
    """Link a blob that `source` already has; None when it has not (the caller falls back to an upload)."""
    blob_guard.blobs_touch(digests=[digest])  # before the look-up: a GC racing us either kept it or took it
    blob = Blob.objects.filter(digest=digest, repository_links__repository=source).first()
    if blob is None:
        return None
    blob_link(repository=repository, blob=blob)
    return blob


def blob_link(*, repository: Repository, blob: Blob) -> None:
    quotas.blob_link_within_quota(repository=repository, blob=blob)


def upload_location(session: UploadSession) -> str:
    return f"/v2/{session.repository.key}/{session.image_name}/blobs/uploads/{session.id}"


def uploads_expire_stale(*, older_than_seconds: float) -> int:
    """Remove upload sessions (and their staged bytes) untouched for longer than the expiry.

    An upload is only expired when both its row and its staged file are older than the expiry
    and no request is writing to it; staged files and saved hash states without a session go too.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    staging = get_upload_staging()
    expired = uploads_bucket.expire_stale(cutoff=cutoff)
    local = UploadSession.objects.filter(updated__lt=cutoff, staging=UploadSession.Staging.LOCAL)
    for session in local.select_related("repository").iterator():
        try:
            with _exclusive(session):
                if _written_since(staging, session.id.hex, cutoff.timestamp()):
                    continue
                upload_cancel(session=session)
        except errors.BlobUploadUnknown:  # the staged file is already gone
            upload_cancel(session=session)
        except errors.RangeInvalid:  # a request is writing to it right now
            continue
        expired += 1
    known = {session_id.hex for session_id in UploadSession.objects.values_list("id", flat=True)}
    for upload_id in staging.iter_stale(older_than_seconds):
        if upload_id.replace("-", "").lower() not in known:
            hash_state.forget(upload_id, staging=staging)
            staging.remove(upload_id)
            expired += 1
    for path in hash_state.leftovers(staging, older_than_seconds=older_than_seconds):
        Path(path).unlink(missing_ok=True)
    if expired:
        logger.info("expired %d stale uploads", expired)
    return expired


def _append(staging, upload_id: str, stream: Readable, hasher, length: int | None) -> int:
    """Stream into the staged file; `hasher` has seen exactly the bytes written when this returns."""
    background = hash_state.BackgroundHasher(hasher)
    try:
        return staging.append(upload_id, stream, hasher=background, limit=length)
    finally:
        background.finish()


@contextmanager
def _exclusive(session: UploadSession) -> Iterator[None]:
    """Hold the upload's lock; a second writer gets 416 with the current Range."""
    try:
        fd = os.open(get_upload_staging().path(session.id.hex), os.O_RDONLY)
    except FileNotFoundError:
        raise errors.BlobUploadUnknown(detail={"uuid": str(session.id)}) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise errors.RangeInvalid(
                "another request is writing to this upload",
                headers=_progress_headers(session, os.fstat(fd).st_size),
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _resumed(session: UploadSession, range_start: int | None, staging) -> tuple[int, Any]:
    """Where the next bytes go (a chunk's Content-Range must start there) and the hash state of the bytes
    staged so far. Called holding the upload's lock."""
    offset = upload_offset(session=session)
    if range_start is not None and range_start != offset:
        raise errors.RangeInvalid(
            f"chunk starts at {range_start}, upload is at {offset}", headers=_progress_headers(session, offset)
        )
    return offset, hash_state.take(session.id.hex, offset=offset, staging=staging)


def _written_since(staging, upload_id: str, timestamp: float) -> bool:
    try:
        return os.stat(staging.path(upload_id)).st_mtime >= timestamp
    except FileNotFoundError:
        return False


def _commit_staged(*, repository: Repository, staged_id: str, digest: str, size: int) -> Blob:
    staging = get_upload_staging()
    # The row first (touched now), then the bytes: garbage collection can then never delete bytes
    # this upload found already stored and is about to link (see repos/services/blob_guard.py).
    blob = blob_guard.blob_reserve(digest=digest, size=size)
    get_blob_store().commit(staged_path=staging.path(staged_id), digest=digest)
    hash_state.forget(staged_id, staging=staging)
    blob_link(repository=repository, blob=blob)
    return blob


def _progress_headers(session: UploadSession, offset: int) -> dict:
    return {
        "Range": f"0-{max(offset - 1, 0)}",
        "Docker-Upload-UUID": str(session.id),
        "Location": upload_location(session),
    }
