"""Processes as /proc shows them: what a test started, and whether anything of it outlives the test."""

from __future__ import annotations

import os


def proc_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), fields[0], cmdline)
    return table


def live_descendants(pid: int) -> dict[int, str]:
    """The live (not zombie) descendants of `pid` and their command lines."""
    table = proc_table()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (child_parent, state, cmdline) in table.items():
            if child_parent == parent and child not in found:
                frontier.append(child)
                if state != "Z":
                    found[child] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_mentioning(*markers: str) -> list[str]:
    """Command lines of running processes but this one that mention any marker (to check nothing was left behind)."""
    return [
        cmdline
        for pid, (_, state, cmdline) in proc_table().items()
        if pid != os.getpid() and state != "Z" and any(marker in cmdline for marker in markers)
    ]
