"""Build-context archives (.tar, .tar.gz, .zip), checked and extracted without trusting them.

Refused: names with `..` or an absolute path, paths the file system could not create, links
(symbolic or hard) that point outside the context, hard links to anything but a file of the
archive, one name used as a file and as a directory, truncated or corrupt archives, device files
and FIFOs, encrypted or sparse entries, more than `max_entries` entries and
more than `max_bytes` of content (counted on the bytes actually written, so headers that lie do
not help a decompression bomb). Links are created after every file, and each one's real path is
checked, so no file is ever written through a link.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from builds.errors import ArchiveRefused

CHUNK = 1024 * 1024
DATA_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, gzip.BadGzipFile)
MAX_LINK_TARGET = 4096
MAX_PATH_BYTES = 4000  # under Linux's PATH_MAX (4096) once the extraction directory is prefixed
MAX_NAME_BYTES = 255


@dataclass
class ArchiveSummary:
    format: str
    entries: int = 0
    total_bytes: int = 0


@dataclass
class _Entry:
    name: str  # normalized, relative, "/"-separated
    kind: str  # file, dir, symlink, hardlink
    size: int = 0
    mode: int = 0o644
    link: str = ""


def detect_format(path: str | Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        raise ArchiveRefused("bzip2 and xz archives are not supported; use .tar, .tar.gz or .zip")
    raise ArchiveRefused("not a .tar, .tar.gz or .zip archive")


def normalize_name(name: str) -> str:
    """The entry's path relative to the context root; refuses absolute paths and `..`."""
    if "\x00" in name:
        raise ArchiveRefused(f"entry {name[:100]!r}: NUL byte in the name")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise ArchiveRefused(f"entry {name[:200]!r}: absolute path")
    parts = [part for part in unified.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveRefused(f"entry {name[:200]!r}: path with `..` leaves the context")
    normalized = "/".join(parts)
    # Beyond these the file system refuses the name (ENAMETOOLONG): say so up front.
    if len(normalized.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise ArchiveRefused(f"entry {name[:100]!r}…: path longer than {MAX_PATH_BYTES} bytes")
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in parts):
        raise ArchiveRefused(f"entry {name[:100]!r}…: a path component is longer than {MAX_NAME_BYTES} bytes")
    return normalized


def _symlink_inside(entry_name: str, target: str) -> bool:
    target = target.replace("\\", "/")
    if not target or target.startswith("/") or re.match(r"^[A-Za-z]:", target):
        return False
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(entry_name), target))
    return not (joined == ".." or joined.startswith("../"))


class _Budget(io.RawIOBase):
    """A reader that refuses to produce more than `limit` bytes (a decompression bomb stops here)."""

    def __init__(self, inner: io.BufferedIOBase, limit: int):
        self.inner, self.limit, self.count = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise ArchiveRefused(f"archive expands past the size limit of {self.limit} bytes")
        buffer[: len(data)] = data
        return len(data)


class _Limits:
    def __init__(self, *, max_bytes: int, max_entries: int, summary: ArchiveSummary):
        self.max_bytes, self.max_entries, self.summary = max_bytes, max_entries, summary

    def entry(self, entry: _Entry) -> None:
        self.summary.entries += 1
        if self.summary.entries > self.max_entries:
            raise ArchiveRefused(f"archive has more than {self.max_entries} entries")
        if entry.kind == "file":
            self.add_bytes(entry.size, entry.name)

    def add_bytes(self, count: int, name: str) -> None:
        self.summary.total_bytes += count
        if self.summary.total_bytes > self.max_bytes:
            raise ArchiveRefused(f"archive expands past the size limit of {self.max_bytes} bytes (at {name[:200]!r})")


def _tar_entries(path: Path, compressed: bool, limit: int) -> Iterator[tuple[_Entry, IO[bytes] | None]]:
    with open(path, "rb") as raw:
        stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if compressed else raw
        reader = io.BufferedReader(_Budget(stream, limit), buffer_size=CHUNK)
        with tarfile.open(fileobj=reader, mode="r|") as archive:
            for member in archive:
                name = normalize_name(member.name)
                if member.isdir():
                    yield _Entry(name, "dir", mode=member.mode), None
                elif member.issparse():
                    raise ArchiveRefused(f"entry {member.name[:200]!r}: sparse files are not supported")
                elif member.isreg():
                    yield _Entry(name, "file", size=member.size, mode=member.mode), archive.extractfile(member)
                elif member.issym():
                    if not _symlink_inside(name, member.linkname):
                        raise ArchiveRefused(f"entry {member.name[:200]!r}: symbolic link points outside the context")
                    yield _Entry(name, "symlink", link=member.linkname), None
                elif member.islnk():
                    yield _Entry(name, "hardlink", link=normalize_name(member.linkname)), None
                elif member.ischr() or member.isblk() or member.isfifo():
                    raise ArchiveRefused(f"entry {member.name[:200]!r}: device files and FIFOs are not allowed")
                else:
                    raise ArchiveRefused(f"entry {member.name[:200]!r}: unsupported entry type")
            # tarfile stops at the end-of-archive blocks; read the stream out so that a truncated
            # or corrupt gzip (its end marker and CRC come last) is noticed here.
            while reader.read(CHUNK):
                pass


def _zip_entries(path: Path) -> Iterator[tuple[_Entry, IO[bytes] | None]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = normalize_name(info.filename)
            if info.flag_bits & 0x1:
                raise ArchiveRefused(f"entry {info.filename[:200]!r}: encrypted entries are not supported")
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if info.is_dir():
                yield _Entry(name, "dir"), None
            elif kind == stat.S_IFLNK:
                if info.file_size > MAX_LINK_TARGET:
                    raise ArchiveRefused(f"entry {info.filename[:200]!r}: link target too long")
                with archive.open(info) as handle:
                    target = handle.read(MAX_LINK_TARGET + 1).decode("utf-8", "replace")
                if not _symlink_inside(name, target):
                    raise ArchiveRefused(f"entry {info.filename[:200]!r}: symbolic link points outside the context")
                yield _Entry(name, "symlink", link=target), None
            elif kind in (0, stat.S_IFREG):
                with archive.open(info) as handle:
                    yield _Entry(name, "file", size=info.file_size, mode=stat.S_IMODE(mode) or 0o644), handle
            else:
                raise ArchiveRefused(f"entry {info.filename[:200]!r}: device files and FIFOs are not allowed")


def _entries(path: Path, fmt: str, *, max_bytes: int, max_entries: int):
    if fmt == "zip":
        return _zip_entries(path)
    # Room for the 512-byte headers and padding around `max_bytes` of content.
    return _tar_entries(path, fmt == "tar.gz", max_bytes + 1536 * (max_entries + 1) + 10 * CHUNK)


def _guarded(iterator, fmt: str):
    try:
        yield from iterator
    except ArchiveRefused:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeError, ValueError) as exc:
        raise ArchiveRefused(f"invalid {fmt} archive: {exc}") from None


def _resolves_inside(links: dict[str, str], name: str) -> bool:
    """Follow `name` through the archive's own symbolic links, as the file system would."""
    resolved: list[str] = []
    pending = name.split("/")
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                return False
            resolved.pop()
            continue
        candidate = "/".join([*resolved, part])
        if candidate in links:
            hops += 1
            target = links[candidate].replace("\\", "/")
            if hops > 40 or target.startswith("/"):
                return False
            pending = target.split("/") + pending
        else:
            resolved.append(part)
    return True


class _Shape:
    """What each name is in the archive, so the scan refuses what extraction could not lay out: one name
    used as a file (or link) and as a directory, a hard link to something that is not a file of the archive."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self.hardlinks: list[_Entry] = []

    def add(self, entry: _Entry) -> None:
        if not entry.name:
            return
        parts = entry.name.split("/")
        for depth in range(1, len(parts)):
            self._claim("/".join(parts[:depth]), "dir", entry.name)
        self._claim(
            entry.name, "dir" if entry.kind == "dir" else "file" if entry.kind == "file" else "link", entry.name
        )
        if entry.kind == "hardlink":
            self.hardlinks.append(entry)

    def _claim(self, name: str, kind: str, by: str) -> None:
        seen = self.kinds.setdefault(name, kind)
        if (seen == "dir") != (kind == "dir"):
            raise ArchiveRefused(f"entry {by[:200]!r}: a file and a directory share the name {name[:200]!r}")
        if kind != "dir":
            self.kinds[name] = kind

    def check_links(self) -> None:
        for entry in self.hardlinks:
            if self.kinds.get(entry.link) != "file":
                raise ArchiveRefused(
                    f"entry {entry.name[:200]!r}: hard link to {entry.link[:200]!r}, not a file of the archive"
                )


def archive_scan(path: str | Path, *, max_bytes: int, max_entries: int) -> ArchiveSummary:
    """Check every entry without writing anything (link chains included)."""
    path = Path(path)
    summary = ArchiveSummary(format=detect_format(path))
    limits = _Limits(max_bytes=max_bytes, max_entries=max_entries, summary=summary)
    links: dict[str, str] = {}
    shape = _Shape()
    stream = _entries(path, summary.format, max_bytes=max_bytes, max_entries=max_entries)
    try:
        for entry, data in _guarded(stream, summary.format):
            limits.entry(entry)
            shape.add(entry)
            if entry.kind == "symlink":
                links[entry.name] = entry.link
            elif entry.kind == "file":
                _copy(data, None, entry, limits)  # read through: checksums and real sizes are checked
    except DATA_ERRORS as exc:
        raise ArchiveRefused(f"invalid {summary.format} archive: {exc}") from None
    shape.check_links()
    for name in links:
        if not _resolves_inside(links, name):
            raise ArchiveRefused(f"entry {name[:200]!r}: symbolic link resolves outside the context")
    return summary


def archive_extract(path: str | Path, dest: str | Path, *, max_bytes: int, max_entries: int) -> ArchiveSummary:
    """Extract into the empty directory `dest`; on refusal `dest` is emptied again."""
    path, dest = Path(path), Path(dest)
    try:
        return _extract(path, dest, max_bytes=max_bytes, max_entries=max_entries)
    except BaseException:
        remove_tree(dest)
        dest.mkdir(exist_ok=True)
        raise


def _extract(path: Path, dest: Path, *, max_bytes: int, max_entries: int) -> ArchiveSummary:
    summary = ArchiveSummary(format=detect_format(path))
    limits = _Limits(max_bytes=max_bytes, max_entries=max_entries, summary=summary)
    links: list[_Entry] = []
    shape = _Shape()
    stream = _entries(path, summary.format, max_bytes=max_bytes, max_entries=max_entries)
    try:
        for entry, data in _guarded(stream, summary.format):
            limits.entry(entry)
            shape.add(entry)
            if not entry.name:
                continue
            target = dest / entry.name
            if entry.kind == "dir":
                if target.exists() and not target.is_dir():
                    raise ArchiveRefused(f"entry {entry.name[:200]!r}: a file and a directory share the name")
                target.mkdir(parents=True, exist_ok=True)
            elif entry.kind == "file":
                _write_file(target, data, entry, limits)
            else:
                links.append(entry)
    except DATA_ERRORS as exc:  # raised while reading an entry's bytes (bad CRC, truncated stream)
        raise ArchiveRefused(f"invalid {summary.format} archive: {exc}") from None
    shape.check_links()
    # Hard links first (they name files written above), then symbolic links.
    for entry in sorted(links, key=lambda e: e.kind != "hardlink"):
        _make_link(dest, entry)
    tree_check(dest)
    return summary


def _write_file(target: Path, data: IO[bytes] | None, entry: _Entry, limits: _Limits) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        raise ArchiveRefused(f"entry {entry.name[:200]!r}: a file and a directory share the name")
    target.unlink(missing_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        _copy(data, out, entry, limits)
    os.chmod(target, (entry.mode & 0o755) | 0o400)


def _copy(data: IO[bytes] | None, out: IO[bytes] | None, entry: _Entry, limits: _Limits) -> None:
    declared, written = entry.size, 0
    while data is not None:
        chunk = data.read(CHUNK)
        if not chunk:
            break
        written += len(chunk)
        if written > declared:
            # More bytes than the header declared (a zip that lies): they count too.
            limits.add_bytes(written - declared, entry.name)
            declared = written
        if out is not None:
            out.write(chunk)
    if data is not None and written < entry.size:
        raise ArchiveRefused(f"entry {entry.name[:200]!r}: truncated ({written} of {entry.size} bytes)")


def _inside(root_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def _make_link(dest: Path, entry: _Entry) -> None:
    root_real = os.path.realpath(dest)
    target = dest / entry.name
    if not _inside(root_real, str(target.parent)):
        raise ArchiveRefused(f"entry {entry.name[:200]!r}: its directory is reached through a link")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        raise ArchiveRefused(f"entry {entry.name[:200]!r}: a link and a directory share the name")
    if target.is_symlink() or target.exists():
        target.unlink()
    if entry.kind == "hardlink":
        source = dest / entry.link
        if not _inside(root_real, str(source)) or source.is_symlink() or not source.is_file():
            raise ArchiveRefused(
                f"entry {entry.name[:200]!r}: hard link to {entry.link[:200]!r}, not a file of the archive"
            )
        os.link(source, target)
    else:
        os.symlink(entry.link, target)
        if not _inside(root_real, str(target)):
            raise ArchiveRefused(f"entry {entry.name[:200]!r}: symbolic link resolves outside the context")


def tree_check(root: str | Path, *, max_bytes: int | None = None) -> int:
    """Refuse a tree with links resolving outside it or special files; returns its size in bytes."""
    root_real = os.path.realpath(root)
    total = 0
    for directory, dirnames, filenames in os.walk(root_real):
        for name in dirnames + filenames:
            full = os.path.join(directory, name)
            info = os.lstat(full)
            relative = os.path.relpath(full, root_real)
            if stat.S_ISLNK(info.st_mode):
                if not _inside(root_real, full):
                    raise ArchiveRefused(f"{relative[:200]!r}: symbolic link resolves outside the context")
            elif stat.S_ISREG(info.st_mode):
                total += info.st_size
            elif not stat.S_ISDIR(info.st_mode):
                raise ArchiveRefused(f"{relative[:200]!r}: device files, FIFOs and sockets are not allowed")
        if max_bytes is not None and total > max_bytes:
            raise ArchiveRefused(f"the context is larger than the limit of {max_bytes} bytes")
    return total


def remove_tree(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
