"""Per-platform progress read from builder output.

Each parser turns lines into updates of a shared `Progress`: platform -> steps done / total and a
state (waiting, building, built, pushing, pushed, failed). Totals are what the builder reports:
the Dockerfile's instruction count, per stage where the builder numbers stages separately.
"""

from __future__ import annotations

import re
import threading

from repos.oci.platforms import PLATFORM_PATTERN

WAITING, BUILDING, BUILT, PUSHING, PUSHED, FAILED = "waiting", "building", "built", "pushing", "pushed", "failed"


class Progress:
    """Thread-safe: the output reader thread writes, the job's heartbeat reads."""

    def __init__(self, platforms: list[str]):
        self._lock = threading.Lock()
        self._stages: dict[str, dict[str, list[int]]] = {p: {} for p in platforms}
        self._state = {p: WAITING for p in platforms}
        self.version = 0
        self.pushing = False

    @property
    def platforms(self) -> list[str]:
        return list(self._state)

    def step(self, platform: str, stage: str, done: int, total: int) -> None:
        with self._lock:
            if platform not in self._state:
                return
            current = self._stages[platform].setdefault(stage, [0, total])
            current[0], current[1] = max(current[0], min(done, total)), total
            if self._state[platform] in (WAITING, BUILDING):
                self._state[platform] = BUILDING
            self.version += 1

    def state(self, platform: str, state: str) -> None:
        with self._lock:
            if platform not in self._state:
                return
            if state in (BUILT, PUSHING, PUSHED):
                for counts in self._stages[platform].values():
                    counts[0] = counts[1]
            self._state[platform] = state
            self.version += 1

    def all(self, state: str) -> None:
        for platform in self.platforms:
            self.state(platform, state)

    def snapshot(self) -> dict:
        with self._lock:
            result = {}
            for platform, state in self._state.items():
                stages = self._stages[platform].values()
                result[platform] = {
                    "done": sum(c[0] for c in stages),
                    "total": sum(c[1] for c in stages),
                    "state": state,
                }
            return result


def percent(entry: dict) -> int:
    if entry.get("state") in (BUILT, PUSHING, PUSHED):
        return 100
    total = entry.get("total") or 0
    return int(100 * entry.get("done", 0) / total) if total else 0


class DockerLegacyParser:
    """`docker build` without BuildKit, one platform per run: `Step 2/5 : COPY ...`, then ` ---> <image id>`.

    Also keeps the ids of the images the steps made (not the base image of a FROM step), so that a
    failed or cancelled build's leftovers can be removed.
    """

    STEP = re.compile(r"^Step (\d+)/(\d+) : (\S+)")
    IMAGE = re.compile(r"^ ---> ([0-9a-f]{12,64})$")

    def __init__(self, progress: Progress, platform: str):
        self.progress, self.platform = progress, platform
        self.images: list[str] = []
        self._instruction = ""

    def feed(self, line: str) -> None:
        match = self.STEP.match(line)
        if match:
            self._instruction = match.group(3).upper()
            self.progress.step(self.platform, "", int(match.group(1)) - 1, int(match.group(2)))
        elif line.startswith("Successfully built "):
            self.progress.state(self.platform, BUILT)
        else:
            image = self.IMAGE.match(line.rstrip())
            if image and self._instruction != "FROM":
                self.images.append(image.group(1))


class BuildahParser:
    """`buildah build --platform a,b`: `[linux/arm64] [2/2] STEP 3/4: COPY ...`, then `[linux/arm64] COMMIT`."""

    LINE = re.compile(
        rf"^(?:\[(?P<platform>{PLATFORM_PATTERN})\] )?"
        r"(?:\[(?P<stage>\d+)/\d+\] )?(?P<what>STEP (?P<k>\d+)/(?P<m>\d+): |COMMIT)"
    )

    def __init__(self, progress: Progress, platform: str | None = None):
        self.progress = progress
        # One platform per run (build arguments that differ by platform): its lines carry no prefix.
        self.single = platform or (progress.platforms[0] if len(progress.platforms) == 1 else None)

    def feed(self, line: str) -> None:
        match = self.LINE.match(line)
        if not match:
            return
        platform = match.group("platform") or self.single
        if platform is None:
            return
        if match.group("what") == "COMMIT":
            self.progress.state(platform, BUILT)
        else:
            stage = match.group("stage") or ""
            self.progress.step(platform, stage, int(match.group("k")) - 1, int(match.group("m")))


class BuildxParser:
    """`docker buildx build --progress plain`: vertices `#7 [linux/arm64 builder 2/3] RUN ...` end with
    `#7 DONE 0.3s` (or CACHED / ERROR); `#12 pushing layers` marks the push."""

    VERTEX = re.compile(
        rf"^#(?P<id>\d+) \[(?:(?P<platform>{PLATFORM_PATTERN}) )?"
        r"(?:(?P<stage>[^\]\s]+) )?(?P<k>\d+)/(?P<m>\d+)\]"
    )
    END = re.compile(r"^#(?P<id>\d+) (?P<how>DONE|CACHED|ERROR)\b")
    PUSH = re.compile(r"^#\d+ (pushing layers|pushing manifest)")

    def __init__(self, progress: Progress):
        self.progress = progress
        self.single = progress.platforms[0] if len(progress.platforms) == 1 else None
        self.vertices: dict[str, tuple[str, str, int, int]] = {}

    def feed(self, line: str) -> None:
        match = self.VERTEX.match(line)
        if match:
            platform = match.group("platform") or self.single
            if platform is not None:
                k, m = int(match.group("k")), int(match.group("m"))
                self.vertices[match.group("id")] = (platform, match.group("stage") or "", k, m)
                self.progress.step(platform, match.group("stage") or "", k - 1, m)
            return
        match = self.END.match(line)
        if match and match.group("id") in self.vertices:
            platform, stage, k, m = self.vertices[match.group("id")]
            if match.group("how") == "ERROR":
                self.progress.state(platform, FAILED)
            else:
                self.progress.step(platform, stage, k, m)
            return
        if self.PUSH.match(line) and not self.progress.pushing:
            self.progress.pushing = True
            self.progress.all(PUSHING)
