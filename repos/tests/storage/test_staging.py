"""UploadStaging: append/hash/limit/truncate/rehash/stale."""

from __future__ import annotations

import hashlib
import io
import os
import time
import uuid

import pytest

from repos.storage.staging import UploadStaging


class TrickleStream:
    """Returns at most ``max_read`` bytes per read() and records the sizes asked."""

    def __init__(self, data: bytes, max_read: int):
        self._buf = io.BytesIO(data)
        self.max_read = max_read
        self.requested: list[int] = []

    def read(self, n: int = -1) -> bytes:
        self.requested.append(n)
        return self._buf.read(min(n, self.max_read) if n >= 0 else self.max_read)


@pytest.fixture
def staging(tmp_path):
    return UploadStaging(tmp_path / "uploads")


@pytest.fixture
def upload_id(staging):
    uid = str(uuid.uuid4())
    staging.create(uid)
    return uid


def test_create_and_size(staging, upload_id, tmp_path):
    assert staging.path(upload_id) == str(tmp_path / "uploads" / upload_id)
    assert os.path.isfile(staging.path(upload_id))
    assert staging.size(upload_id) == 0
    hex_id = uuid.uuid4().hex
    staging.create(hex_id)
    assert staging.size(hex_id) == 0
    with pytest.raises(FileExistsError):
        staging.create(upload_id)


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "", "a/b", "x" * 32, str(uuid.uuid4()) + "/..", "urn:uuid:" + str(uuid.uuid4()), None]
)
def test_invalid_upload_ids(staging, bad, tmp_path):
    for call in (staging.create, staging.path, staging.size, staging.remove, staging.rehash):
        with pytest.raises(ValueError):
            call(bad)
    assert not any(tmp_path.rglob("*"))


def test_append_in_chunks_with_hasher(staging, upload_id):
    data = os.urandom(100_000)
    hasher = hashlib.sha256()
    stream = TrickleStream(data, max_read=7_000)
    assert staging.append(upload_id, stream, hasher=hasher, chunk_size=4096) == len(data)
    assert max(stream.requested) <= 4096, "memory bounded by chunk_size"
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert staging.size(upload_id) == len(data)

    more = b"second chunk"
    assert staging.append(upload_id, io.BytesIO(more), hasher=hasher) == len(more)
    with open(staging.path(upload_id), "rb") as fh:
        assert fh.read() == data + more
    assert hasher.hexdigest() == hashlib.sha256(data + more).hexdigest()


def test_append_respects_limit(staging, upload_id):
    stream = io.BytesIO(b"0123456789abcdef")
    hasher = hashlib.sha256()
    assert staging.append(upload_id, stream, hasher=hasher, chunk_size=3, limit=10) == 10
    assert stream.read() == b"abcdef", "nothing read past the limit"
    assert hasher.hexdigest() == hashlib.sha256(b"0123456789").hexdigest()
    assert staging.append(upload_id, io.BytesIO(b"xyz"), limit=0) == 0
    # A stream shorter than the limit: returns what was written.
    assert staging.append(upload_id, io.BytesIO(b"short"), limit=100) == 5
    assert staging.size(upload_id) == 15


def test_append_to_unknown_upload(staging):
    with pytest.raises(FileNotFoundError):
        staging.append(uuid.uuid4().hex, io.BytesIO(b"data"))


def test_truncate_rolls_back(staging, upload_id):
    staging.append(upload_id, io.BytesIO(b"good part|"))
    known = staging.size(upload_id)
    staging.append(upload_id, io.BytesIO(b"failed partial chunk"))
    staging.truncate(upload_id, known)
    assert staging.size(upload_id) == known
    staging.append(upload_id, io.BytesIO(b"retry"))
    with open(staging.path(upload_id), "rb") as fh:
        assert fh.read() == b"good part|retry"
    with pytest.raises(ValueError):
        staging.truncate(upload_id, staging.size(upload_id) + 1)
    with pytest.raises(ValueError):
        staging.truncate(upload_id, -1)


def test_rehash_matches_and_can_continue(staging, upload_id):
    data = os.urandom(3 * 1024 * 1024 + 17)
    staging.append(upload_id, io.BytesIO(data))
    hasher = staging.rehash(upload_id)
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    hasher.update(b"tail")
    staging.append(upload_id, io.BytesIO(b"tail"))
    assert hasher.hexdigest() == staging.rehash(upload_id).hexdigest()


def test_remove_is_idempotent(staging, upload_id):
    staging.remove(upload_id)
    assert not os.path.exists(staging.path(upload_id))
    staging.remove(upload_id)


def test_iter_stale(staging, tmp_path):
    old, fresh = uuid.uuid4().hex, str(uuid.uuid4())
    staging.create(old)
    staging.create(fresh)
    long_ago = time.time() - 3600
    os.utime(staging.path(old), (long_ago, long_ago))
    (tmp_path / "uploads" / "not-an-upload").write_bytes(b"")
    os.utime(tmp_path / "uploads" / "not-an-upload", (long_ago, long_ago))

    assert list(staging.iter_stale(600)) == [old]
    assert sorted(staging.iter_stale(-60)) == sorted([old, fresh])
    assert list(UploadStaging(tmp_path / "missing").iter_stale(0)) == []
