"""Context archives: good ones extract exactly; every malicious one is refused, nothing lands outside."""

import os
import stat
import tarfile

import pytest

from builds.archives import archive_extract, archive_scan, tree_check
from builds.errors import ArchiveRefused
from builds.tests.archive_samples import (
    DOCKERFILE,
    good_context,
    malicious_archives,
    tar_bytes,
    tar_entry,
    zip_bytes,
)

MALICIOUS_CASES = sorted(malicious_archives())
LIMITS = {"max_bytes": 16 * 1024 * 1024, "max_entries": 1000}


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name,data",
    [
        ("ctx.tar", tar_bytes(good_context())),
        ("ctx.tar.gz", tar_bytes(good_context(), gz=True)),
        ("ctx.zip", zip_bytes(good_context())),
    ],
)
def test_good_archives_extract_exactly(tmp_path, name, data):
    archive = write(tmp_path, name, data)
    dest = tmp_path / "out"
    dest.mkdir()
    summary = archive_extract(archive, dest, **LIMITS)
    assert summary.entries == 2
    assert (dest / "Dockerfile").read_bytes() == DOCKERFILE
    assert (dest / "hello.txt").read_bytes() == b"hello\n"
    assert archive_scan(archive, **LIMITS).entries == 2


def test_links_inside_the_context_are_kept(tmp_path):
    data = tar_bytes(
        [
            *good_context(),
            ("sub/real.txt", b"r"),
            tar_entry("sub/alias", tarfile.SYMTYPE, linkname="real.txt"),
            tar_entry("up", tarfile.SYMTYPE, linkname="sub/../hello.txt"),
            tar_entry("hard", tarfile.LNKTYPE, linkname="hello.txt"),
        ]
    )
    dest = tmp_path / "out"
    dest.mkdir()
    archive_extract(write(tmp_path, "ok.tar", data), dest, **LIMITS)
    assert os.readlink(dest / "sub/alias") == "real.txt"
    assert (dest / "sub/alias").read_bytes() == b"r"
    assert (dest / "up").read_bytes() == b"hello\n"
    assert (dest / "hard").read_bytes() == b"hello\n" and not (dest / "hard").is_symlink()


def test_modes_lose_setuid_and_keep_exec(tmp_path):
    exe = tarfile.TarInfo("run.sh")
    exe.size, exe.mode = 0, 0o4755
    dest = tmp_path / "out"
    dest.mkdir()
    archive_extract(write(tmp_path, "m.tar", tar_bytes([*good_context(), exe])), dest, **LIMITS)
    mode = stat.S_IMODE(os.stat(dest / "run.sh").st_mode)
    assert mode & 0o111 and not mode & stat.S_ISUID


@pytest.mark.parametrize("case", MALICIOUS_CASES)
def test_malicious_archives_are_refused(tmp_path, case):
    filename, data = malicious_archives()[case]
    archive = write(tmp_path, filename, data)
    outside_before = set(os.listdir(tmp_path))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ArchiveRefused) as refused:
        archive_extract(archive, dest, **LIMITS)
    assert refused.value.field == "context" and str(refused.value)
    with pytest.raises(ArchiveRefused):
        archive_scan(archive, **LIMITS)
    # Nothing was written beside the extraction directory, and no link in it leads out.
    assert set(os.listdir(tmp_path)) == outside_before | {"out"}
    assert not (tmp_path / "escape.txt").exists()
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            full = os.path.join(root, name)
            assert os.path.realpath(full).startswith(str(dest.resolve()))


def test_entry_count_limit(tmp_path):
    data = tar_bytes([(f"f{i}", b"") for i in range(30)])
    with pytest.raises(ArchiveRefused, match="more than 10 entries"):
        archive_scan(write(tmp_path, "many.tar", data), max_bytes=1024, max_entries=10)


def test_size_limit_counts_declared_sizes(tmp_path):
    data = tar_bytes([("a", b"x" * 600), ("b", b"y" * 600)], gz=True)
    with pytest.raises(ArchiveRefused, match="size limit"):
        archive_scan(write(tmp_path, "big.tar.gz", data), max_bytes=1000, max_entries=10)


def test_tree_check_refuses_links_out_and_devices(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "ok").write_text("x")
    os.symlink("ok", root / "fine")
    assert tree_check(root) == 1
    os.symlink("../../etc", root / "bad")
    with pytest.raises(ArchiveRefused, match="outside"):
        tree_check(root)
    os.unlink(root / "bad")
    os.mkfifo(root / "pipe")
    with pytest.raises(ArchiveRefused, match="FIFO"):
        tree_check(root)
