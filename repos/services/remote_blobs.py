"""Blobs of a remote repository: fetched from the upstream once, streamed to every client meanwhile.

The first pull of a missing blob takes the lock (a `RemoteBlobFetch` row, unique per digest),
opens the upstream response and hands it to a fetch thread, which writes the bytes into a staged
file while hashing them, then checks digest and size and commits the blob. Every client, the first
one included, is a reader of that staged file as it grows, so a slow or vanished client never
slows or breaks the fetch for the others, and memory stays at one chunk per reader. A reader holds
back its last chunk until the fetch is verified: a client never receives a complete body that did
not match its digest. Readers on another host (no shared staging disk) wait for the commit and
read from the store. A fetch whose heartbeat stops (its process died) is taken over.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from repos import errors
from repos.models import Blob, RemoteBlobFetch, Repository
from repos.oci import digests
from repos.services import blob_guard
from repos.services.uploads import blob_link
from repos.services.upstream import UpstreamClient, UpstreamError, UpstreamNotFound
from repos.storage import get_blob_store, get_upload_staging

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024
POLL_SECONDS = 0.02
HEARTBEAT_SECONDS = 1.0
HOST = socket.gethostname()


@dataclass
class BlobStream:
    """A blob on its way from the upstream: its size and the chunks as they arrive."""

    digest: str
    size: int
    chunks: Iterator[bytes]


@dataclass
class FetchRequest:
    repository: Repository
    client: UpstreamClient
    upstream_name: str
    digest: str
    declared_size: int | None  # what a cached manifest of the repository says, if one does


def blob_fetch_stream(request: FetchRequest) -> Blob | BlobStream:
    """The blob from the store when it is there by now, else a stream of the fetch in progress
    (started here when nobody is fetching it)."""
    deadline = time.monotonic() + settings.UPSTREAM_TIMEOUT_SECONDS
    while True:
        blob = _stored(request)
        if blob is not None:
            return blob
        fetch = _lead(request)
        if isinstance(fetch, Blob):
            return fetch
        if fetch is None:
            fetch = _current_fetch(request.digest)
            if fetch is None:
                continue  # finished (or failed) between our insert and our read: look again
        size = _wait_for_size(fetch, deadline)
        if size is None:
            if time.monotonic() > deadline:
                raise errors.UpstreamUnavailable(
                    "the upstream did not start sending the blob in time", detail={"digest": request.digest}
                )
            continue
        return BlobStream(digest=request.digest, size=size, chunks=_read_growing(fetch, size))


def blob_fetch_wait(request: FetchRequest) -> Blob:
    """Fetch (or wait for someone's fetch of) the blob and return it stored: for config blobs and
    for filling a cached image before a promotion."""
    source = blob_fetch_stream(request)
    if isinstance(source, Blob):
        return source
    for _ in source.chunks:
        pass
    # The stream ends once the bytes are verified; the fetch then stores and links them.
    deadline = time.monotonic() + settings.UPSTREAM_TIMEOUT_SECONDS
    while (blob := _stored(request)) is None and time.monotonic() < deadline:
        if not RemoteBlobFetch.objects.filter(digest=request.digest).exists():
            blob = _stored(request)
            break
        time.sleep(POLL_SECONDS)
    if blob is None:
        raise errors.UpstreamUnavailable("the blob fetch did not complete", detail={"digest": request.digest})
    return blob


def _stored(request: FetchRequest) -> Blob | None:
    """The blob when this repository may serve it from the store: linked already, or present in the
    store and named by a manifest cached from this upstream (the bytes hash to the digest it asked for)."""
    blob = Blob.objects.filter(digest=request.digest, repository_links__repository=request.repository).first()
    if blob is not None:
        return blob
    if request.declared_size is None:
        return None
    blob = Blob.objects.filter(digest=request.digest, size__isnull=False).first()
    if blob is None or not get_blob_store().exists(request.digest):
        return None
    blob_link(repository=request.repository, blob=blob)
    return blob


def _current_fetch(digest: str) -> RemoteBlobFetch | None:
    fetch = RemoteBlobFetch.objects.filter(digest=digest).first()
    if fetch is not None and fetch.heartbeat < timezone.now() - timedelta(
        seconds=settings.UPSTREAM_FETCH_STALE_SECONDS
    ):
        # Its process died mid-fetch: drop the lock (only if nobody refreshed it meanwhile), someone takes over.
        RemoteBlobFetch.objects.filter(pk=fetch.pk, heartbeat=fetch.heartbeat).delete()
        return None
    return fetch


def _lead(request: FetchRequest) -> RemoteBlobFetch | Blob | None:
    """Take the lock and start the fetch; None when another request holds the lock, the blob when a fetch
    finished between the caller's look at the store and this lock."""
    staged_id = uuid.uuid4().hex
    try:
        with transaction.atomic():
            fetch = RemoteBlobFetch.objects.create(
                digest=request.digest, staged_id=staged_id, host=HOST, heartbeat=timezone.now()
            )
    except IntegrityError:
        return None
    # The last fetch deletes its lock after it stored and linked the blob: a request that looked at the store
    # just before that, and takes the lock just after, finds the blob here instead of fetching it again.
    blob = _stored(request)
    if blob is not None:
        RemoteBlobFetch.objects.filter(pk=fetch.pk).delete()
        return blob
    response = None
    try:
        response = request.client.blob(request.upstream_name, request.digest)
        size = _announced_size(request, response)
        get_upload_staging().create(staged_id)
    except BaseException as exc:
        RemoteBlobFetch.objects.filter(pk=fetch.pk).delete()
        if response is not None:
            response.close()
        _raise_for(exc, request)
        raise
    RemoteBlobFetch.objects.filter(pk=fetch.pk).update(size=size)
    fetch.size = size
    thread = threading.Thread(
        target=_fetch_run,
        args=(fetch.pk, staged_id, request, response, size),
        name=f"upstream-fetch-{request.digest[7:19]}",
        daemon=True,
    )
    thread.start()
    return fetch


def _announced_size(request: FetchRequest, response) -> int:
    length = response.headers.get("Content-Length", "")
    if not length.isdigit():
        if request.declared_size is None:
            raise UpstreamError("the upstream sent the blob without a length and no cached manifest declares it")
        return request.declared_size
    size = int(length)
    if request.declared_size is not None and size != request.declared_size:
        raise UpstreamError(
            f"the upstream sends {size} bytes for blob {request.digest}, its manifest declared {request.declared_size}"
        )
    return size


def _raise_for(exc: BaseException, request: FetchRequest) -> None:
    if isinstance(exc, UpstreamNotFound):
        raise errors.BlobUnknown(detail={"digest": request.digest}) from None
    if isinstance(exc, UpstreamError):
        from repos.services.remote import remote_status_record

        remote_status_record(request.repository, error=str(exc))
        raise errors.UpstreamUnavailable(str(exc), detail={"digest": request.digest}) from None


def _fetch_run(fetch_id: int, staged_id: str, request: FetchRequest, response, size: int) -> None:
    """The fetch thread: upstream bytes -> staged file (hashed) -> verified -> stored and linked."""
    path = get_upload_staging().path(staged_id)
    hasher = hashlib.sha256()
    received = 0
    ok = False
    error = ""
    try:
        last_beat = time.monotonic()
        with open(path, "ab", buffering=0) as out:
            for chunk in response.iter_content(CHUNK):
                received += len(chunk)
                if received > size:
                    raise UpstreamError(f"the upstream sent more than the {size} bytes it announced")
                hasher.update(chunk)
                out.write(chunk)
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    RemoteBlobFetch.objects.filter(pk=fetch_id).update(heartbeat=timezone.now())
                    last_beat = time.monotonic()
        actual = digests.hasher_digest(hasher)
        if received != size:
            raise UpstreamError(f"the upstream sent {received} of {size} bytes")
        if actual != request.digest:
            raise UpstreamError(f"the upstream's bytes hash to {actual}, not {request.digest}: refused")
        # Readers may send their last bytes now (they are the right ones); storing them (fsync) follows.
        open(_verified_marker(path), "wb").close()
        _commit(request, path, size)
        ok = True
    except Exception as exc:  # the fetch thread has nobody to raise to: readers see the lock go without a blob
        error = str(exc)
        logger.warning("remote %s: fetch of %s failed: %s", request.repository.key, request.digest, exc)
    finally:
        response.close()
        RemoteBlobFetch.objects.filter(pk=fetch_id).delete()
        Path(_verified_marker(path)).unlink(missing_ok=True)
        if not ok:
            Path(path).unlink(missing_ok=True)
        from repos.services.remote import remote_status_record

        remote_status_record(request.repository, error=error)
        connection.close()


def _commit(request: FetchRequest, path: str, size: int) -> None:
    # The row first (touched: garbage collection leaves it alone), then the bytes; readers that
    # still have the staged file open keep reading it after the store took it over.
    blob = blob_guard.blob_reserve(digest=request.digest, size=size)
    get_blob_store().commit(staged_path=path, digest=request.digest)
    blob_link(repository=request.repository, blob=blob)


def _wait_for_size(fetch: RemoteBlobFetch, deadline: float) -> int | None:
    while fetch.size is None:
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL_SECONDS)
        again = RemoteBlobFetch.objects.filter(pk=fetch.pk).first()
        if again is None:
            return None
        fetch = again
    return fetch.size


def _read_growing(fetch: RemoteBlobFetch, size: int) -> Iterator[bytes]:
    """Chunks of the staged file as the fetch thread writes it; the last one only once it is verified."""
    close_old_connections()
    try:
        handle = open(get_upload_staging().path(fetch.staged_id), "rb")
    except FileNotFoundError:
        handle = None  # another host fetches it (or it is gone already): wait for the store
    if handle is None:
        yield from _after_commit(fetch, size)
        return
    sent = 0
    try:
        while sent < size:
            data = handle.read(min(CHUNK, size - sent))
            if data:
                if sent + len(data) < size:
                    sent += len(data)
                    yield data
                    continue
                _wait_for_outcome(fetch)  # the last bytes: only once the digest checked out
                sent += len(data)
                yield data
                continue
            _check_alive(fetch)
            time.sleep(POLL_SECONDS)
    finally:
        handle.close()
        close_old_connections()


def _wait_for_outcome(fetch: RemoteBlobFetch, *, stored: bool = False) -> None:
    """Until the fetch has verified the bytes (`stored`: and stored them); raises when it failed."""
    marker = _verified_marker(get_upload_staging().path(fetch.staged_id))
    while RemoteBlobFetch.objects.filter(pk=fetch.pk).exists():
        if not stored and os.path.exists(marker):
            return
        _check_alive(fetch)
        time.sleep(POLL_SECONDS)
    if not get_blob_store().exists(fetch.digest):
        raise _broken(fetch)


def _verified_marker(staged_path: str) -> str:
    """Beside the staged file while its bytes are verified and being stored (readers on this host look)."""
    return staged_path + ".verified"


def _check_alive(fetch: RemoteBlobFetch) -> None:
    current = RemoteBlobFetch.objects.filter(pk=fetch.pk).values_list("heartbeat", flat=True).first()
    if current is None:
        if not get_blob_store().exists(fetch.digest):
            raise _broken(fetch)
        return
    if current < timezone.now() - timedelta(seconds=settings.UPSTREAM_FETCH_STALE_SECONDS):
        raise _broken(fetch)


def _after_commit(fetch: RemoteBlobFetch, size: int) -> Iterator[bytes]:
    _wait_for_outcome(fetch, stored=True)
    with get_blob_store().open(fetch.digest) as handle:
        while data := handle.read(CHUNK):
            yield data


def _broken(fetch: RemoteBlobFetch) -> Exception:
    # Raised mid-body: the server drops the connection, so the client sees a failed download and
    # retries; nothing was stored.
    return ConnectionAbortedError(f"the upstream fetch of {fetch.digest} failed")
