"""Running sha256 state of uploads in progress.

A chunked upload may continue in another gunicorn process or after a restart. After each
chunk the hash state is kept in memory and saved next to the staged bytes (OpenSSL's
SHA256_CTX through ctypes: hashlib objects cannot be serialised), so whoever continues picks
it up without re-reading anything. When no saved state matches the staged size (a chunk cut
off half-way, a crash before the save, no libcrypto), the state is rebuilt by hashing the
staged bytes once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import queue
import struct
import threading
import time
from collections import OrderedDict
from pathlib import Path

logger = logging.getLogger(__name__)

STATE_SUFFIX = ".sha256state"
_MAGIC = b"SHA256C1"
_CTX_SIZE = 112  # sizeof(SHA256_CTX): h[8], Nl, Nh, data[16], num, md_len as 32-bit words
_MAX_ENTRIES = 256
_lock = threading.Lock()
_states: OrderedDict[str, tuple[int, object]] = OrderedDict()


def _load_libcrypto():
    for name in (ctypes.util.find_library("crypto"), "libcrypto.so.3", "libcrypto.so"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.SHA256_Init.argtypes = [ctypes.c_char_p]
            lib.SHA256_Update.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
            lib.SHA256_Final.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        except (OSError, AttributeError):
            continue
        return lib
    return None


class ResumableSha256:
    """sha256 whose state can be saved as bytes and restored (ctypes releases the GIL while hashing)."""

    def __init__(self, state: bytes | None = None):
        self._ctx = ctypes.create_string_buffer(_CTX_SIZE)
        if state is None:
            _LIB.SHA256_Init(self._ctx)
        else:
            ctypes.memmove(self._ctx, state, _CTX_SIZE)

    def update(self, data) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)
        _LIB.SHA256_Update(self._ctx, data, len(data))

    def hexdigest(self) -> str:
        ctx = ctypes.create_string_buffer(self._ctx.raw, _CTX_SIZE)  # finalise a copy
        out = ctypes.create_string_buffer(32)
        _LIB.SHA256_Final(out, ctx)
        return out.raw.hex()

    def state(self) -> bytes:
        return self._ctx.raw


def _self_test(lib) -> bool:
    """The struct layout matches what we save, checked once against hashlib."""
    global _LIB
    _LIB = lib
    try:
        first = ResumableSha256()
        first.update(b"x" * 100)
        resumed = ResumableSha256(first.state())
        resumed.update(b"y" * 37)
        return resumed.hexdigest() == hashlib.sha256(b"x" * 100 + b"y" * 37).hexdigest()
    except Exception:  # noqa: BLE001 - any failure just disables saved states
        return False


_LIB = _load_libcrypto()
RESUMABLE = _LIB is not None and _self_test(_LIB)
if not RESUMABLE:
    logger.warning("libcrypto's SHA256_* unavailable: resumed uploads re-hash their staged bytes")


def new():
    return ResumableSha256() if RESUMABLE else hashlib.sha256()


class BackgroundHasher:
    """Feeds a hasher on a helper thread, so hashing overlaps the upload's socket reads and disk
    writes instead of adding to them (both hashers release the GIL on large updates). At most
    `depth` chunks wait in between; `finish()` hands back the hasher once it has seen everything."""

    def __init__(self, hasher, *, depth: int = 4):
        self._hasher = hasher
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="upload-hasher", daemon=True)
        self._thread.start()

    def update(self, data) -> None:
        self._queue.put(data)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            self._hasher.update(data)

    def finish(self):
        self._queue.put(None)
        self._thread.join()
        return self._hasher


def state_path(staging, upload_id: str) -> str:
    return staging.path(upload_id) + STATE_SUFFIX


def take(upload_id: str, *, offset: int, staging):
    """The hasher covering exactly the first `offset` staged bytes of the upload."""
    with _lock:
        entry = _states.pop(upload_id, None)
    if entry is not None and entry[0] == offset:
        return entry[1]
    if offset == 0:
        return new()
    saved = _read_state(staging, upload_id, offset)
    if saved is not None:
        return saved
    logger.info("upload %s: rebuilding the hash state from %d staged bytes", upload_id, offset)
    return _rehash(staging, upload_id)


def keep(upload_id: str, *, offset: int, hasher, staging) -> None:
    """Remember the state after a chunk, in memory and on disk for other processes."""
    with _lock:
        _states[upload_id] = (offset, hasher)
        _states.move_to_end(upload_id)
        while len(_states) > _MAX_ENTRIES:
            _states.popitem(last=False)
    if isinstance(hasher, ResumableSha256):
        _write_state(staging, upload_id, offset, hasher.state())


def forget(upload_id: str, *, staging) -> None:
    with _lock:
        _states.pop(upload_id, None)
    Path(state_path(staging, upload_id)).unlink(missing_ok=True)


def leftovers(staging, *, older_than_seconds: float) -> list[str]:
    """Saved states whose staged file is gone (an upload cancelled while a chunk was running),
    and temporary files of a save cut short by a crash."""
    try:
        entries = list(os.scandir(staging.root))
    except FileNotFoundError:
        return []
    cutoff = time.time() - older_than_seconds
    found = []
    for entry in entries:
        if entry.name.endswith(STATE_SUFFIX):
            if not os.path.exists(entry.path[: -len(STATE_SUFFIX)]):
                found.append(entry.path)
        elif entry.name.endswith(".tmp") and STATE_SUFFIX in entry.name:
            try:
                if entry.stat().st_mtime < cutoff:
                    found.append(entry.path)
            except FileNotFoundError:
                continue
    return found


def _rehash(staging, upload_id: str):
    hasher = new()
    with open(staging.path(upload_id), "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            hasher.update(chunk)
    return hasher


def _read_state(staging, upload_id: str, offset: int) -> ResumableSha256 | None:
    if not RESUMABLE:
        return None
    try:
        with open(state_path(staging, upload_id), "rb") as handle:
            data = handle.read(len(_MAGIC) + 8 + _CTX_SIZE + 1)
    except FileNotFoundError:
        return None
    if len(data) != len(_MAGIC) + 8 + _CTX_SIZE or not data.startswith(_MAGIC):
        return None
    (saved_offset,) = struct.unpack(">Q", data[len(_MAGIC) : len(_MAGIC) + 8])
    if saved_offset != offset:
        return None
    return ResumableSha256(data[len(_MAGIC) + 8 :])


def _write_state(staging, upload_id: str, offset: int, state: bytes) -> None:
    path = state_path(staging, upload_id)
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(_MAGIC + struct.pack(">Q", offset) + state)
    os.replace(temporary, path)
