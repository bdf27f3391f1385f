"""Filesystem-backend specifics: layout, permissions, commit fallbacks."""

from __future__ import annotations

import errno
import os
import stat
import threading

import pytest

from repos.storage import filesystem
from repos.storage.filesystem import FilesystemBlobStore
from tests.support.content import digest_of


@pytest.fixture
def fs_store(tmp_path):
    return FilesystemBlobStore(tmp_path / "blobs")


def test_layout_and_permissions(fs_store, stage, tmp_path):
    data = b"layout"
    digest = digest_of(data)
    hexpart = digest.split(":")[1]
    fs_store.commit(staged_path=stage(data), digest=digest)

    expected = tmp_path / "blobs" / "sha256" / hexpart[:2] / hexpart
    assert fs_store.local_path(digest) == str(expected)
    assert expected.read_bytes() == data
    assert stat.S_IMODE(expected.stat().st_mode) == 0o644
    assert fs_store.presigned_url(digest) is None


def test_local_path_for_absent_blob_is_still_a_path(fs_store):
    digest = digest_of(b"absent")
    assert fs_store.local_path(digest).endswith(digest.split(":")[1])
    assert not os.path.exists(fs_store.local_path(digest))


def test_cross_device_commit_copies(fs_store, stage, monkeypatch):
    real_link = os.link
    calls = []

    def link(src, dst):
        calls.append(src)
        if len(calls) == 1:  # the staged file "lives on another device"
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(src, dst)

    monkeypatch.setattr(filesystem.os, "link", link)
    data = b"copied across devices"
    digest = digest_of(data)
    staged = stage(data)
    assert fs_store.commit(staged_path=staged, digest=digest) is True
    assert not os.path.exists(staged)
    assert open(fs_store.local_path(digest), "rb").read() == data
    shard_dir = os.path.dirname(fs_store.local_path(digest))
    assert os.listdir(shard_dir) == [digest.split(":")[1]], "temp file cleaned up"
    assert stat.S_IMODE(os.stat(fs_store.local_path(digest)).st_mode) == 0o644


def test_no_hardlink_support_falls_back_to_replace(fs_store, stage, monkeypatch):
    def link(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(filesystem.os, "link", link)
    data = b"no links here"
    digest = digest_of(data)
    assert fs_store.commit(staged_path=stage(data), digest=digest) is True
    second = stage(b"other")
    assert fs_store.commit(staged_path=second, digest=digest) is False
    assert not os.path.exists(second)
    assert open(fs_store.local_path(digest), "rb").read() == data


def test_concurrent_commits_exactly_one_wins(fs_store, stage):
    data = b"raced" * 1000
    digest = digest_of(data)
    staged = [stage(data) for _ in range(8)]
    results = []
    barrier = threading.Barrier(len(staged))

    def worker(path):
        barrier.wait()
        results.append(fs_store.commit(staged_path=path, digest=digest))

    threads = [threading.Thread(target=worker, args=(p,)) for p in staged]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert not any(os.path.exists(p) for p in staged)
    assert open(fs_store.local_path(digest), "rb").read() == data


def test_iter_digests_ignores_junk(fs_store, stage, tmp_path):
    data = b"real"
    digest = digest_of(data)
    fs_store.commit(staged_path=stage(data), digest=digest)
    hexpart = digest.split(":")[1]
    algo = tmp_path / "blobs" / "sha256"
    (algo / hexpart[:2] / ".tmp-123").write_bytes(b"x")
    (algo / hexpart[:2] / ("f" * 64)).write_bytes(b"wrong shard")
    (algo / "README").write_text("not a shard")
    (algo / "zz").mkdir()
    (algo / "zz" / ("a" * 64)).write_bytes(b"x")
    assert list(fs_store.iter_digests()) == [digest]


def test_empty_root_lists_nothing(tmp_path):
    assert list(FilesystemBlobStore(tmp_path / "missing").iter_digests()) == []
