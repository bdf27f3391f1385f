"""What every builder backend gets and gives: a spec in, a list of commands out."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

from builds.progress import Progress

BUILDING, PUSHING = "building", "pushing"


@dataclass
class BuildSpec:
    build_id: int
    context: Path
    dockerfile: Path
    platforms: list[str]
    destination: str  # HOST/repository/image:staging-tag, the builder pushes here
    workdir: Path  # private to this build: builder state, credentials, metadata
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    network: str = ""
    insecure: bool = True  # the registry is plain HTTP (loopback by default)

    @property
    def docker_config(self) -> Path:
        """A DOCKER_CONFIG directory; its config.json holds the build's registry credential."""
        return self.workdir / "docker"

    @property
    def auth_file(self) -> Path:
        return self.docker_config / "config.json"

    @property
    def repository_ref(self) -> str:
        return self.destination.rsplit(":", 1)[0]

    @property
    def staging_tag(self) -> str:
        return self.destination.rsplit(":", 1)[1]

    def common_build_flags(self, *, network: bool = True) -> list[str]:
        flags = ["--file", str(self.dockerfile)]
        for key, value in self.build_args.items():
            flags += ["--build-arg", f"{key}={value}"]
        for key, value in self.labels.items():
            flags += ["--label", f"{key}={value}"]
        if self.target:
            flags += ["--target", self.target]
        if network and self.network:
            flags += ["--network", self.network]
        return flags


@dataclass
class Command:
    argv: list[str]
    phase: str
    parser: object | None = None  # has feed(line)
    env: dict[str, str] | None = None  # added to the worker's environment
    on_start: Callable[[], None] | None = None
    on_success: Callable[[], None] | None = None


class Builder:
    name = ""

    def available(self) -> tuple[bool, str]:
        raise NotImplementedError

    def commands(self, spec: BuildSpec, progress: Progress) -> Iterator[Command]:
        raise NotImplementedError

    def cleanup(self, spec: BuildSpec) -> list[list[str]]:
        """Commands that drop what the build left on the host (run whatever the outcome)."""
        return []

    def reported_digest(self, spec: BuildSpec) -> str:
        """The digest the builder says it pushed (checked against what the registry holds), if it says."""
        return ""


class DigestCapture:
    """A parser that keeps the last bare `sha256:...` line of a command's output."""

    LINE = re.compile(r"^(sha256:[0-9a-f]{64})$")

    def __init__(self):
        self.digest = ""

    def feed(self, line: str) -> None:
        match = self.LINE.match(line.strip())
        if match:
            self.digest = match.group(1)


@lru_cache(maxsize=16)
def probe(*argv: str) -> tuple[bool, str]:
    """Whether a command runs successfully here (cached for the worker's life)."""
    try:
        result = subprocess.run(list(argv), capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if result.returncode != 0:
        return False, (result.stderr or result.stdout).strip()[:300]
    return True, result.stdout.strip()[:300]
