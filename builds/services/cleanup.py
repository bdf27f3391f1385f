"""The environment build commands see, and removing a build's private directory safely."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from builds.archives import remove_tree

# The worker's environment holds database URLs and secrets: commands get only what tools need.
KEEP = {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "USER",
    "XDG_RUNTIME_DIR",
    "TZ",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
}
KEEP_PREFIXES = ("DOCKER_", "BUILDKIT_", "BUILDX_", "CONTAINERS_", "BUILDAH_", "STORAGE_")


def command_environment(extra: dict | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in KEEP or k.startswith(KEEP_PREFIXES)}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(extra or {})
    return env


def _mounts_under(path: Path) -> list[str]:
    root = os.path.realpath(path)
    found = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                point = line.split()[4].replace("\\040", " ")
                if point == root or point.startswith(root + os.sep):
                    found.append(point)
    except OSError:
        return []
    return sorted(found, key=len, reverse=True)


def workdir_remove(path: Path) -> None:
    """Unmount anything a killed builder left mounted inside, then delete the tree (never across a mount)."""
    for point in _mounts_under(path):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
    if _mounts_under(path):
        raise RuntimeError(f"{path} still has mounts; left in place")
    remove_tree(path)


def workdirs_sweep(*, root: str | Path, older_than: float = 60.0) -> list[str]:
    """Remove the private directories of builds that have ended (left behind by a worker that died).

    A directory is `build-<id>-*` under BUILD_WORK_DIR, one per installation, so the ids are this
    database's; one whose build is still active, or that is very young, is kept.
    """
    from builds.models import BuildJob

    root = Path(root)
    if not root.is_dir():
        return []
    candidates: dict[int, list[Path]] = {}
    for entry in root.iterdir():
        parts = entry.name.split("-")
        if len(parts) >= 3 and parts[0] == "build" and parts[1].isdigit() and entry.is_dir():
            try:
                if time.time() - entry.stat().st_mtime >= older_than:
                    candidates.setdefault(int(parts[1]), []).append(entry)
            except FileNotFoundError:
                continue
    ended = set(BuildJob.objects.filter(pk__in=candidates, status__in=BuildJob.TERMINAL).values_list("pk", flat=True))
    gone = set(candidates) - set(BuildJob.objects.filter(pk__in=candidates).values_list("pk", flat=True))
    removed = []
    for build_id in ended | gone:
        for path in candidates[build_id]:
            try:
                workdir_remove(path)
                removed.append(path.name)
            except (OSError, RuntimeError):
                continue
    return removed
