"""Blob uploads: stream to a staged file while hashing, verify, then commit content-addressed.

No database transaction is open while bytes move; rows are written only after the blob is in
place, so a half-written upload is never visible.
"""
from __future__ import annotations

import logging
from typing import BinaryIO

from django.db import IntegrityError, transaction

from repos import errors
from repos.models import Blob, Repository, RepositoryBlob, UploadSession
from repos.oci import digests
from repos.services import hashers
from repos.storage import get_blob_store, get_upload_staging

logger = logging.getLogger(__name__)


def upload_start(*, repository: Repository, image_name: str) -> UploadSession:
    session = UploadSession.objects.create(repository=repository, image_name=image_name)
    get_upload_staging().create(session.id.hex)
    return session


def upload_offset(*, session: UploadSession) -> int:
    staging = get_upload_staging()
    try:
        return staging.size(session.id.hex)
    except FileNotFoundError:
        raise errors.BlobUploadUnknown(detail={"uuid": str(session.id)}) from None


def upload_append(
    *, session: UploadSession, stream: BinaryIO, length: int | None, range_start: int | None = None
) -> int:
    """Append a chunk; returns the new offset. `range_start` comes from Content-Range."""
    upload_id = session.id.hex
    staging = get_upload_staging()
    offset = upload_offset(session=session)
    if range_start is not None and range_start != offset:
        raise errors.RangeInvalid(
            f"chunk starts at {range_start}, upload is at {offset}",
            headers=_progress_headers(session, offset),
        )
    hasher = hashers.take(upload_id, offset=offset, staging=staging)
    try:
        written = staging.append(upload_id, stream, hasher=hasher, limit=length)
    except Exception:
        # Whatever reached the disk stays (a client can resume from GET's Range); the hash is rebuilt later.
        logger.warning("upload %s interrupted after a partial chunk", session.id)
        raise
    new_offset = offset + written
    if length is not None and written != length:
        staging.truncate(upload_id, offset)
        raise errors.SizeInvalid(f"expected {length} bytes, received {written}")
    hashers.keep(upload_id, offset=new_offset, hasher=hasher)
    UploadSession.objects.filter(pk=session.pk).update(offset=new_offset)
    return new_offset


def upload_complete(
    *, session: UploadSession, digest: str, stream: BinaryIO | None = None, length: int | None = None
) -> Blob:
    """Finish an upload with its final chunk (maybe empty) and verify the digest."""
    if not digests.is_valid_digest(digest):
        upload_cancel(session=session)
        raise errors.DigestInvalid("invalid digest", detail={"digest": digest})
    upload_id = session.id.hex
    staging = get_upload_staging()
    offset = upload_offset(session=session)
    hasher = hashers.take(upload_id, offset=offset, staging=staging)
    if stream is not None and length != 0:
        try:
            offset += staging.append(upload_id, stream, hasher=hasher, limit=length)
        except Exception:
            upload_cancel(session=session)
            raise
    actual = f"sha256:{hasher.hexdigest()}"
    if actual != digest:
        upload_cancel(session=session)
        raise errors.DigestInvalid(detail={"expected": digest, "actual": actual})
    blob = _commit_staged(repository=session.repository, staged_id=upload_id, digest=digest, size=offset)
    UploadSession.objects.filter(pk=session.pk).delete()
    return blob


def upload_cancel(*, session: UploadSession) -> None:
    hashers.forget(session.id.hex)
    get_upload_staging().remove(session.id.hex)
    UploadSession.objects.filter(pk=session.pk).delete()


def blob_push_monolithic(
    *, repository: Repository, image_name: str, digest: str, stream: BinaryIO, length: int | None
) -> Blob:
    session = upload_start(repository=repository, image_name=image_name)
    return upload_complete(session=session, digest=digest, stream=stream, length=length)


def blob_mount(*, repository: Repository, digest: str, source: Repository) -> Blob | None:
    """Link a blob that `source` already has; None when it has not (the caller falls back to an upload)."""
    blob = Blob.objects.filter(digest=digest, repository_links__repository=source).first()
    if blob is None:
        return None
    blob_link(repository=repository, blob=blob)
    return blob


def blob_link(*, repository: Repository, blob: Blob) -> None:
    RepositoryBlob.objects.get_or_create(repository=repository, blob=blob)


def _commit_staged(*, repository: Repository, staged_id: str, digest: str, size: int) -> Blob:
    staging = get_upload_staging()
    get_blob_store().commit(staged_path=staging.path(staged_id), digest=digest)
    hashers.forget(staged_id)
    blob = _blob_get_or_create(digest=digest, size=size)
    blob_link(repository=repository, blob=blob)
    return blob


def _blob_get_or_create(*, digest: str, size: int) -> Blob:
    blob = Blob.objects.filter(digest=digest).first()
    if blob is not None:
        return blob
    try:
        with transaction.atomic():
            return Blob.objects.create(digest=digest, size=size)
    except IntegrityError:
        # Another push of the same bytes won the race; its row is as good as ours.
        return Blob.objects.get(digest=digest)


def _progress_headers(session: UploadSession, offset: int) -> dict:
    return {
        "Range": f"0-{max(offset - 1, 0)}",
        "Docker-Upload-UUID": str(session.id),
        "Location": upload_location(session),
    }


def upload_location(session: UploadSession) -> str:
    return f"/v2/{session.repository.key}/{session.image_name}/blobs/uploads/{session.id}"


def uploads_expire_stale(*, older_than_seconds: float) -> int:
    """Remove upload sessions (and their staged bytes) untouched for longer than the expiry."""
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    expired = 0
    for session in UploadSession.objects.filter(updated__lt=cutoff).select_related("repository"):
        upload_cancel(session=session)
        expired += 1
    staging = get_upload_staging()
    known = {u.hex for u in UploadSession.objects.values_list("id", flat=True)}
    for upload_id in staging.iter_stale(older_than_seconds):
        if upload_id not in known:
            staging.remove(upload_id)
            expired += 1
    return expired
