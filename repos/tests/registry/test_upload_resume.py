"""Uploads that continue elsewhere: in another process, after a restart, after a chunk cut off
half-way; one writer at a time; stale uploads expired by the scheduled task."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from repos import hash_state
from repos.models import Blob, UploadSession
from repos.services import uploads as upload_services
from repos.storage import get_upload_staging
from repos.tests.registry.client import error_code
from tests.support.content import digest_of

NAME = "docker-local/resume"
OCTET = "application/octet-stream"


def _forget_in_memory_states():
    """What another gunicorn process, or the server after a restart, knows: nothing in memory."""
    hash_state._states.clear()


def _start(http) -> str:
    return http.post(f"/v2/{NAME}/blobs/uploads/")["Location"]


def _patch(http, location: str, data: bytes, start: int):
    response = http.patch(
        location, data=data, content_type=OCTET, headers={"Content-Range": f"{start}-{start + len(data) - 1}"}
    )
    assert response.status_code == 202, response.content
    return response


def _session(location: str) -> UploadSession:
    return UploadSession.objects.get(pk=location.rsplit("/", 1)[1])


@given(st.lists(st.binary(max_size=300), max_size=6))
@hypothesis_settings(max_examples=40, deadline=None)
def test_saved_hash_state_resumes_exactly(chunks):
    hasher = hash_state.new()
    for chunk in chunks:
        hasher = hash_state.ResumableSha256(hasher.state()) if hash_state.RESUMABLE else hasher
        hasher.update(chunk)
    assert hasher.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()


@pytest.mark.skipif(not hash_state.RESUMABLE, reason="libcrypto's SHA256_* are not available")
def test_another_process_continues_from_the_saved_state(registry, blob_storage):
    http = registry.client
    data = os.urandom(3000)
    location = _start(http)
    _patch(http, location, data[:2000], 0)
    upload_id = _session(location).id.hex
    staging = get_upload_staging()
    assert os.path.exists(hash_state.state_path(staging, upload_id))
    _forget_in_memory_states()
    # Proof that the staged bytes are not re-read: change them (same length); the saved state
    # still describes the original bytes, so the upload completes with the original digest.
    with open(staging.path(upload_id), "r+b") as handle:
        handle.write(b"\0" * 2000)
    done = http.put(f"{location}?digest={digest_of(data)}", data=data[2000:], content_type=OCTET)
    assert done.status_code == 201, done.content


def test_without_a_saved_state_the_staged_bytes_are_rehashed(registry, blob_storage):
    http = registry.client
    data = os.urandom(5000)
    location = _start(http)
    _patch(http, location, data[:1000], 0)
    _patch(http, location, data[1000:4000], 1000)
    saved = hash_state.state_path(get_upload_staging(), _session(location).id.hex)
    if os.path.exists(saved):
        os.unlink(saved)
    _forget_in_memory_states()
    done = http.put(f"{location}?digest={digest_of(data)}", data=data[4000:], content_type=OCTET)
    assert done.status_code == 201, done.content
    assert not os.listdir(blob_storage / "uploads")


class _CutOff:
    """A request body whose connection drops after `limit` bytes."""

    def __init__(self, data: bytes, limit: int):
        self.data, self.limit, self.sent = data, limit, 0

    def read(self, size: int) -> bytes:
        if self.sent >= self.limit:
            raise ConnectionResetError("client went away")
        piece = self.data[self.sent : min(self.sent + size, self.limit)]
        self.sent += len(piece)
        return piece


def test_a_chunk_cut_off_half_way_resumes_from_the_staged_bytes(registry, blob_storage, settings):
    http = registry.client
    data = os.urandom(3 * 1024 * 1024 + 17)
    location = _start(http)
    _patch(http, location, data[: 1024 * 1024], 0)
    session = _session(location)
    with pytest.raises(ConnectionResetError):
        upload_services.upload_append(session=session, stream=_CutOff(data[1024 * 1024 :], 1500 * 1024), length=None)
    _forget_in_memory_states()
    progress = http.get(location)
    assert progress.status_code == 204
    offset = int(progress["Range"].split("-")[1]) + 1
    assert 1024 * 1024 < offset <= 1024 * 1024 + 1500 * 1024  # what arrived before the drop stayed
    stale = http.patch(
        location,
        data=data[1024 * 1024 :],
        content_type=OCTET,
        headers={"Content-Range": f"{1024 * 1024}-{len(data) - 1}"},
    )
    assert stale.status_code == 416 and stale["Range"] == f"0-{offset - 1}"
    _patch(http, location, data[offset:], offset)
    done = http.put(f"{location}?digest={digest_of(data)}")
    assert done.status_code == 201, done.content
    stored = b"".join(http.get(f"/v2/{NAME}/blobs/{digest_of(data)}").streaming_content)
    assert stored == data


def test_a_second_writer_gets_416(registry, blob_storage):
    http = registry.client
    location = _start(http)
    _patch(http, location, b"first", 0)
    staged = get_upload_staging().path(_session(location).id.hex)
    fd = os.open(staged, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a request that is still writing
        busy = http.patch(location, data=b"second", content_type=OCTET, headers={"Content-Range": "5-10"})
        assert busy.status_code == 416 and busy["Range"] == "0-4"
        assert error_code(busy) == "BLOB_UPLOAD_INVALID"
    finally:
        os.close(fd)
    assert _patch(http, location, b"second", 5)["Range"] == "0-10"


def test_each_chunk_marks_the_session_active(registry, blob_storage):
    http = registry.client
    location = _start(http)
    UploadSession.objects.update(updated=timezone.now() - timedelta(days=3))
    _patch(http, location, b"still here", 0)
    assert timezone.now() - _session(location).updated < timedelta(minutes=1)


def _age(path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_expire_stale_uploads_task(registry, blob_storage):
    from repos.tasks import expire_stale_uploads

    http = registry.client
    staging = get_upload_staging()
    expiry = settings.REGISTRY_UPLOAD_EXPIRY_SECONDS
    old = timezone.now() - timedelta(seconds=expiry + 60)
    stale, fresh, busy, written_lately = (_start(http) for _ in range(4))
    for location in (stale, fresh, busy, written_lately):
        _patch(http, location, b"some bytes", 0)
    for location in (stale, busy, written_lately):
        UploadSession.objects.filter(pk=_session(location).pk).update(updated=old)
    for location in (stale, busy):
        _age(staging.path(_session(location).id.hex), expiry + 60)
    orphan = "0" * 32
    staging.create(orphan)
    _age(staging.path(orphan), expiry + 60)
    orphan_state = hash_state.state_path(staging, "1" * 32)
    open(orphan_state, "wb").close()
    stale_id = _session(stale).id.hex

    fd = os.open(staging.path(_session(busy).id.hex), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = expire_stale_uploads.apply()
    finally:
        os.close(fd)

    assert result.get() == 2  # the stale session and the orphaned file
    remaining = {s.id.hex for s in UploadSession.objects.all()}
    assert remaining == {_session(loc).id.hex for loc in (fresh, busy, written_lately)}
    assert http.get(stale).status_code == 404
    left = set(os.listdir(staging.root))
    assert stale_id not in left and orphan not in left and os.path.basename(orphan_state) not in left
    assert not Blob.objects.exists()


def test_expiry_is_scheduled():
    from config.celery_app import app

    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "repos.expire_stale_uploads" in scheduled
    assert scheduled["repos.expire_stale_uploads"] <= settings.REGISTRY_UPLOAD_EXPIRY_SECONDS
    app.loader.import_default_modules()
    assert "repos.expire_stale_uploads" in app.tasks
