"""Process tree and memory from /proc (Linux), for the benchmarks."""

from __future__ import annotations

from builds.procs import descendants as descendant_pids


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid` (those gone before their command line was read left out)."""
    found = []
    for child in descendant_pids(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((child, cmdline))
    return found


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
