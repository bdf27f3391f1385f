"""Build-context archives, good and malicious, written as real .tar, .tar.gz and .zip bytes."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile
from collections.abc import Sequence
from functools import lru_cache

# Past the 16 MiB limit the tests use; each bomb is a few KiB to a few tens of KiB compressed.
BOMB_SIZE = 32 * 1024 * 1024
DOCKERFILE = b'FROM scratch\nCOPY hello.txt /\nCMD ["/hello"]\n'


def tar_bytes(members: Sequence[tarfile.TarInfo | tuple[str, bytes]], *, gz: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as archive:
        for member in members:
            if isinstance(member, tuple):
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(member)
    return buffer.getvalue()


def tar_entry(name: str, kind: bytes, *, linkname: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = size
    return info


def zip_bytes(
    members: list[tuple[str, bytes]], *, symlinks: dict[str, str] | None = None, modes: dict[str, int] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, stat.S_IFREG | 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def good_context(content: bytes = b"hello\n") -> list[tuple[str, bytes]]:
    return [("Dockerfile", DOCKERFILE), ("hello.txt", content)]


def gzip_bomb(size: int) -> bytes:
    """A .tar.gz a few KiB long whose one member declares and holds `size` zero bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("zeros.bin")
        info.size = size

        class Zeros(io.RawIOBase):
            left = size

            def readable(self):
                return True

            def readinto(self, b):
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n

        archive.addfile(info, io.BufferedReader(Zeros()))
    return buffer.getvalue()


def zip_bomb_lying(real_size: int) -> bytes:
    """A zip whose entry declares 10 bytes but inflates to `real_size` (headers patched)."""
    data = zip_bytes([("small.txt", bytes(real_size))])
    declared = (10).to_bytes(4, "little")
    real = real_size.to_bytes(4, "little")
    # Uncompressed size sits in the local header (offset 22) and the central directory (offset 24).
    return data.replace(real, declared)


@lru_cache(maxsize=1)
def malicious_archives() -> dict[str, tuple[str, bytes]]:
    """name -> (filename, bytes); each must be refused."""
    return {
        "dotdot tar": ("evil.tar", tar_bytes([*good_context(), ("../escape.txt", b"x")])),
        "dotdot nested tar.gz": ("evil.tar.gz", tar_bytes([*good_context(), ("sub/../../escape.txt", b"x")], gz=True)),
        "absolute tar": ("evil.tar", tar_bytes([*good_context(), ("/etc/escape.txt", b"x")])),
        "symlink out tar": (
            "evil.tar",
            tar_bytes([*good_context(), tar_entry("link", tarfile.SYMTYPE, linkname="/etc/passwd")]),
        ),
        "symlink up tar": (
            "evil.tar",
            tar_bytes([*good_context(), tar_entry("d/link", tarfile.SYMTYPE, linkname="../../x")]),
        ),
        "hardlink out tar": (
            "evil.tar",
            tar_bytes([*good_context(), tar_entry("h", tarfile.LNKTYPE, linkname="../../etc/passwd")]),
        ),
        "hardlink abs tar": (
            "evil.tar",
            tar_bytes([*good_context(), tar_entry("h", tarfile.LNKTYPE, linkname="/etc/shadow")]),
        ),
        "char device tar": ("evil.tar", tar_bytes([*good_context(), tar_entry("null", tarfile.CHRTYPE)])),
        "block device tar": ("evil.tar", tar_bytes([*good_context(), tar_entry("sda", tarfile.BLKTYPE)])),
        "fifo tar": ("evil.tar", tar_bytes([*good_context(), tar_entry("pipe", tarfile.FIFOTYPE)])),
        "symlink chain tar": (
            "evil.tar",
            tar_bytes(
                [
                    *good_context(),
                    tar_entry("d/y", tarfile.SYMTYPE, linkname="."),
                    tar_entry("d/s", tarfile.SYMTYPE, linkname="y/../.."),
                    ("d/keep", b"k"),
                ]
            ),
        ),
        "dotdot zip": ("evil.zip", zip_bytes([*good_context(), ("../escape.txt", b"x")])),
        "absolute zip": ("evil.zip", zip_bytes([*good_context(), ("/tmp/escape.txt", b"x")])),
        "backslash zip": ("evil.zip", zip_bytes([*good_context(), ("..\\..\\escape.txt", b"x")])),
        "symlink out zip": ("evil.zip", zip_bytes(good_context(), symlinks={"link": "/etc/passwd"})),
        "device zip": ("evil.zip", zip_bytes([*good_context(), ("dev", b"")], modes={"dev": stat.S_IFCHR | 0o644})),
        "gzip bomb": ("bomb.tar.gz", gzip_bomb(BOMB_SIZE)),
        "zip bomb": ("bomb.zip", zip_bytes([*good_context(), ("zeros.bin", bytes(BOMB_SIZE))])),
        "zip bomb (lying header)": ("bomb.zip", zip_bomb_lying(BOMB_SIZE)),
        "not an archive": ("notes.txt", b"just some text, not an archive at all\n" * 20),
        # Issue 12, defect 10: each of these passed the upload check before.
        "hardlink to missing tar": (
            "evil.tar",
            tar_bytes([*good_context(), tar_entry("h", tarfile.LNKTYPE, linkname="missing.txt")]),
        ),
        "hardlink to dir tar": (
            "evil.tar",
            tar_bytes(
                [*good_context(), tar_entry("d", tarfile.DIRTYPE), tar_entry("h", tarfile.LNKTYPE, linkname="d")]
            ),
        ),
        "file then dir tar": (
            "evil.tar",
            tar_bytes([*good_context(), ("same", b"x"), tar_entry("same", tarfile.DIRTYPE)]),
        ),
        "dir then file tar": (
            "evil.tar",
            tar_bytes([*good_context(), tar_entry("same", tarfile.DIRTYPE), ("same", b"x")]),
        ),
        "file under a file tar.gz": (
            "evil.tar.gz",
            tar_bytes([*good_context(), ("same", b"x"), ("same/inner", b"y")], gz=True),
        ),
        "file under a file zip": ("evil.zip", zip_bytes([*good_context(), ("same", b"x"), ("same/inner", b"y")])),
        "truncated gzip trailer": ("cut.tar.gz", tar_bytes(good_context(), gz=True)[:-4]),
        "truncated gzip stream": (
            "cut.tar.gz",
            tar_bytes([*good_context(), ("big.bin", bytes(range(256)) * 400)], gz=True)[:-200],
        ),
        # The tar ends (zero blocks) long before the gzip stream does, so a reader that stops at the tar's end
        # never reaches the cut.
        "truncated gzip after the tar's end": (
            "cut.tar.gz",
            gzip.compress(tar_bytes(good_context()) + bytes(4 << 20))[:-10],
        ),
        "truncated tar": ("cut.tar", tar_bytes([*good_context(), ("big.bin", b"z" * 20000)])[:-12000]),
        "6000-character path tar": ("long.tar", tar_bytes([*good_context(), ("/".join(["d" * 99] * 60), b"x")])),
        "300-character name tar.gz": ("long.tar.gz", tar_bytes([*good_context(), ("n" * 300, b"x")], gz=True)),
        "6000-character path zip": ("long.zip", zip_bytes([*good_context(), ("/".join(["d" * 99] * 60), b"x")])),
    }
