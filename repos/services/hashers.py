"""In-process sha256 state of uploads in progress.

hashlib objects cannot be persisted, so each process keeps the running hash of the uploads it
has seen, keyed by upload id and the offset it covers. When another process (or a restarted
server) continues an upload, the state is rebuilt once by hashing the staged bytes.
"""
import hashlib
import threading
from collections import OrderedDict

_MAX_ENTRIES = 256
_lock = threading.Lock()
_states: "OrderedDict[str, tuple[int, object]]" = OrderedDict()


def take(upload_id: str, *, offset: int, staging) -> "hashlib._Hash":
    """The hasher covering exactly `offset` bytes of the upload, removed from the cache."""
    with _lock:
        entry = _states.pop(upload_id, None)
    if entry is not None and entry[0] == offset:
        return entry[1]
    if offset == 0:
        return hashlib.sha256()
    return staging.rehash(upload_id)


def keep(upload_id: str, *, offset: int, hasher) -> None:
    with _lock:
        _states[upload_id] = (offset, hasher)
        _states.move_to_end(upload_id)
        while len(_states) > _MAX_ENTRIES:
            _states.popitem(last=False)


def forget(upload_id: str) -> None:
    with _lock:
        _states.pop(upload_id, None)
