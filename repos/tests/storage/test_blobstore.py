"""Behaviour every BlobStore backend must share (run against filesystem and S3)."""

from __future__ import annotations

import os

import pytest

from repos.storage.base import BlobNotFound, BlobStore
from tests.support.content import digest_of

from .util import MB

INVALID_DIGESTS = [
    "sha256:../x",
    "sha256:" + "A" * 64,
    "sha256:" + "a" * 63,
    "sha256:" + "a" * 65,
    "md5:" + "a" * 32,
    "sha512:" + "a" * 128,
    "sha256:../../" + "a" * 58,
    "sha256:" + "a" * 63 + "/",
    "sha256:" + "a" * 64 + "\n",
    " sha256:" + "a" * 64,
    "a" * 64,
    "",
    None,
]


def read_all(store: BlobStore, digest: str) -> bytes:
    fh = store.open(digest)
    try:
        return fh.read()
    finally:
        fh.close()


def test_commit_then_read(store, stage):
    data = b"hello blob\n" * 1000
    digest = digest_of(data)
    assert not store.exists(digest)
    assert store.size(digest) is None

    staged = stage(data)
    assert store.commit(staged_path=staged, digest=digest) is True
    assert not os.path.exists(staged)

    assert store.exists(digest)
    assert store.size(digest) == len(data)
    assert read_all(store, digest) == data
    assert list(store.iter_digests()) == [digest]


def test_open_missing_raises(store):
    with pytest.raises(BlobNotFound):
        store.open(digest_of(b"nope"))


def test_empty_blob(store, stage):
    digest = digest_of(b"")
    assert store.commit(staged_path=stage(b""), digest=digest) is True
    assert store.exists(digest)
    assert store.size(digest) == 0
    assert read_all(store, digest) == b""


def test_first_writer_wins(store, stage):
    data = b"layer bytes"
    digest = digest_of(data)
    assert store.commit(staged_path=stage(data), digest=digest) is True

    second = stage(b"something else entirely")  # would be a bug upstream
    assert store.commit(staged_path=second, digest=digest) is False
    assert not os.path.exists(second), "staged file is removed either way"
    assert read_all(store, digest) == data
    assert store.size(digest) == len(data)


def test_delete_is_idempotent(store, stage):
    data = b"to be deleted"
    digest = digest_of(data)
    store.commit(staged_path=stage(data), digest=digest)
    store.delete(digest)
    assert not store.exists(digest)
    assert store.size(digest) is None
    store.delete(digest)  # again: no error
    store.delete(digest_of(b"never stored"))
    # It can be committed again after deletion.
    assert store.commit(staged_path=stage(data), digest=digest) is True


def test_iter_digests_lists_everything(store, stage):
    blobs = [f"blob {i}".encode() for i in range(7)]
    digests = {digest_of(b) for b in blobs}
    for data in blobs:
        store.commit(staged_path=stage(data), digest=digest_of(data))
    assert set(store.iter_digests()) == digests
    store.delete(digest_of(blobs[0]))
    assert set(store.iter_digests()) == digests - {digest_of(blobs[0])}


def test_large_blob_streams(store, stage):
    data = os.urandom(256 * 1024) * 48  # 12 MiB: multipart on S3
    digest = digest_of(data)
    assert store.commit(staged_path=stage(data), digest=digest) is True
    assert store.size(digest) == len(data)
    fh = store.open(digest)
    try:
        received = bytearray()
        while chunk := fh.read(MB):
            received += chunk
    finally:
        fh.close()
    assert bytes(received) == data


@pytest.mark.parametrize("bad", INVALID_DIGESTS)
def test_invalid_digests_rejected(store, stage, tmp_path, bad):
    staged = stage(b"payload")
    before = sorted(p for p in tmp_path.rglob("*"))
    calls = [
        lambda: store.exists(bad),
        lambda: store.size(bad),
        lambda: store.open(bad),
        lambda: store.local_path(bad),
        lambda: store.presigned_url(bad),
        lambda: store.commit(staged_path=staged, digest=bad),
        lambda: store.delete(bad),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()
    assert os.path.exists(staged), "a rejected commit leaves the staged file alone"
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert list(store.iter_digests()) == []
