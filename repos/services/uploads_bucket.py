"""Blob uploads staged in the S3 bucket (see repos/storage/s3_staging.py), for stateless web nodes.

The upload's row is the whole state: multipart id, the parts so far, the size of the tail object,
the sha256 state over exactly `offset` bytes (OpenSSL's SHA256_CTX, repos/storage/hash_state.py),
and a lease held by the one request writing to it (a second writer gets 416, as on the
filesystem). The row is updated after each part and after the tail is written, always to a
state the bucket already holds, so a node that dies mid-chunk leaves an upload any other node
resumes from GET's Range. No database transaction is open while bytes move.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from repos import errors, hash_state
from repos.models import Blob, UploadSession
from repos.oci import digests
from repos.services import blob_guard, quotas
from repos.storage import Readable, get_bucket_staging

if TYPE_CHECKING:
    from repos.storage.s3_staging import BucketUploadStaging

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
READ_SIZE = 1024 * 1024


def _staging() -> BucketUploadStaging:
    staging = get_bucket_staging()
    if staging is None:
        raise RuntimeError("an upload staged in the bucket, but the blob store has no bucket staging now")
    return staging


def start(session: UploadSession) -> None:
    if not hash_state.RESUMABLE:
        raise errors.RegistryError("bucket upload staging needs libcrypto's SHA256_* (resumable sha256)")
    UploadSession.objects.filter(pk=session.pk).update(staging=UploadSession.Staging.BUCKET)
    session.staging = UploadSession.Staging.BUCKET


def offset(session: UploadSession) -> int:
    current = UploadSession.objects.filter(pk=session.pk).values_list("offset", flat=True).first()
    if current is None:
        raise errors.BlobUploadUnknown(detail={"uuid": str(session.id)})
    return current


def append(
    *, session: UploadSession, stream: Readable, length: int | None, range_start: int | None, progress_headers
) -> int:
    with _lease(session, progress_headers) as row:
        _check_start(row, range_start, progress_headers)
        written, _ = _absorb(row, stream, length)
    if length is not None and written != length:
        raise errors.SizeInvalid(f"expected {length} bytes, received {written}", headers=progress_headers(row.offset))
    return row.offset


def complete(
    *,
    session: UploadSession,
    digest: str,
    stream: Readable | None,
    length: int | None,
    range_start: int | None,
    progress_headers,
) -> Blob:
    staging = _staging()
    with _lease(session, progress_headers) as row:
        _check_start(row, range_start, progress_headers)
        hasher = _hasher(row)
        if stream is not None and length != 0:
            written, hasher = _absorb(row, stream, length)
            if length is not None and written != length:
                cancel(session=row)
                raise errors.SizeInvalid(f"expected {length} bytes, received {written}")
        actual = digests.hasher_digest(hasher)
        if actual != digest:
            cancel(session=row)
            raise errors.DigestInvalid(detail={"expected": digest, "actual": actual})
        try:
            quotas.quota_check(repository=row.repository, digest=digest, size=row.offset)
        except errors.Denied:
            cancel(session=row)
            raise
        blob = blob_guard.blob_reserve(digest=digest, size=row.offset)  # before the bytes land: see blob_guard
        staging.commit(
            upload_id=row.id.hex, multipart_id=row.multipart_id, parts=row.parts, tail_size=row.tail_size, digest=digest
        )
        quotas.blob_link_within_quota(repository=row.repository, blob=blob)
    UploadSession.objects.filter(pk=session.pk).delete()
    return blob


def cancel(*, session: UploadSession) -> None:
    row = UploadSession.objects.filter(pk=session.pk).first() or session
    try:
        _staging().discard(row.id.hex, row.multipart_id)
    finally:
        UploadSession.objects.filter(pk=session.pk).delete()


def expire_stale(*, cutoff) -> int:
    expired = 0
    stale = UploadSession.objects.filter(staging=UploadSession.Staging.BUCKET, updated__lt=cutoff).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=timezone.now())
    )
    for session in stale.iterator():
        cancel(session=session)
        expired += 1
    return expired


def _check_start(row: UploadSession, range_start: int | None, progress_headers) -> None:
    if range_start is not None and range_start != row.offset:
        raise errors.RangeInvalid(
            f"chunk starts at {range_start}, upload is at {row.offset}", headers=progress_headers(row.offset)
        )


def _hasher(row: UploadSession):
    state = bytes(row.hash_state) if row.hash_state is not None else None
    return hash_state.ResumableSha256(state)


def _absorb(row: UploadSession, stream: Readable, length: int | None) -> tuple[int, object]:
    """Append the stream: full parts as they fill, the rest as the new tail. Returns bytes read."""
    staging = _staging()
    upload_id = row.id.hex
    hasher = _hasher(row)
    buffer = bytearray(staging.read_tail(upload_id, row.tail_size))
    hashed = len(buffer)  # leading buffer bytes the hash state already covers
    written = 0
    while length is None or written < length:
        want = READ_SIZE if length is None else min(READ_SIZE, length - written)
        data = stream.read(want)
        if not data:
            break
        data = data[:want]
        buffer += data
        written += len(data)
        while len(buffer) >= staging.part_size:
            part = bytes(buffer[: staging.part_size])
            if hashed < len(part):
                hasher.update(part[hashed:])
            if not row.multipart_id:
                row.multipart_id = staging.start(upload_id)
            number = len(row.parts) + 1
            etag = staging.upload_part(upload_id, row.multipart_id, number, part)
            row.parts = [*row.parts, {"number": number, "etag": etag, "size": len(part)}]
            del buffer[: staging.part_size]
            hashed = max(0, hashed - len(part))
            _save(row, offset=sum(p["size"] for p in row.parts), tail_size=0, hasher=hasher)
    if hashed < len(buffer):
        hasher.update(bytes(buffer[hashed:]))
    if buffer or row.tail_size:
        staging.write_tail(upload_id, bytes(buffer))
    _save(row, offset=sum(p["size"] for p in row.parts) + len(buffer), tail_size=len(buffer), hasher=hasher)
    return written, hasher


def _save(row: UploadSession, *, offset: int, tail_size: int, hasher) -> None:
    row.offset, row.tail_size, row.hash_state = offset, tail_size, hasher.state()
    UploadSession.objects.filter(pk=row.pk).update(
        offset=offset,
        tail_size=tail_size,
        hash_state=row.hash_state,
        parts=row.parts,
        multipart_id=row.multipart_id,
        updated=timezone.now(),
        locked_until=timezone.now() + LEASE,
    )


@contextmanager
def _lease(session: UploadSession, progress_headers) -> Iterator[UploadSession]:
    now = timezone.now()
    taken = (
        UploadSession.objects.filter(pk=session.pk)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + LEASE)
    )
    if not taken:
        current = UploadSession.objects.filter(pk=session.pk).values_list("offset", flat=True).first()
        if current is None:
            raise errors.BlobUploadUnknown(detail={"uuid": str(session.id)})
        raise errors.RangeInvalid("another request is writing to this upload", headers=progress_headers(current))
    try:
        yield UploadSession.objects.select_related("repository").get(pk=session.pk)
    finally:
        UploadSession.objects.filter(pk=session.pk).update(locked_until=None)
