"""What every builder backend gets and gives: a spec in, a list of commands out."""

from __future__ import annotations

import platform as host
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from builds.progress import Progress
from repos.oci.digests import SHA256_PATTERN

BUILDING, PUSHING = "building", "pushing"


@dataclass
class BuildSpec:
    build_id: int
    context: Path
    dockerfile: Path
    platforms: list[str]
    destination: str  # HOST/repository/image:staging-tag, the builder pushes here
    workdir: Path  # private to this build: builder state, credentials, metadata
    # KEY -> value for every platform; a platform key ("linux/arm64") -> {KEY: value} for that one only.
    build_args: dict = field(default_factory=dict)
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
    def pull_docker_config(self) -> Path:
        """A DOCKER_CONFIG directory holding the read-only credential for pulling FROM images."""
        return self.workdir / "docker-pull"

    @property
    def pull_auth_file(self) -> Path:
        return self.pull_docker_config / "config.json"

    @property
    def repository_ref(self) -> str:
        return self.destination.rsplit(":", 1)[0]

    @property
    def staging_tag(self) -> str:
        return self.destination.rsplit(":", 1)[1]

    @property
    def registry_host(self) -> str:
        return self.destination.split("/", 1)[0]

    def args_for(self, platform: str | None) -> dict[str, str]:
        """The build arguments of one platform (its own values win over the common ones)."""
        return build_args_for(self.build_args, platform)

    @property
    def args_differ_by_platform(self) -> bool:
        return len({tuple(sorted(self.args_for(p).items())) for p in self.platforms}) > 1

    def common_build_flags(self, *, network: bool = True, platform: str | None = None) -> list[str]:
        """`platform`: the one this command builds; None for a command building every platform, whose
        arguments are then the same for all (callers split the build when they differ)."""
        flags = ["--file", str(self.dockerfile)]
        for key, value in self.args_for(platform or (self.platforms[0] if self.platforms else None)).items():
            flags += ["--build-arg", f"{key}={value}"]
        for key, value in self.labels.items():
            flags += ["--label", f"{key}={value}"]
        if self.target:
            flags += ["--target", self.target]
        if network and self.network:
            flags += ["--network", self.network]
        return flags


def build_args_for(build_args: dict, platform: str | None) -> dict[str, str]:
    common = {k: v for k, v in build_args.items() if not isinstance(v, dict)}
    own = build_args.get(platform) if platform else None
    return {**common, **own} if isinstance(own, dict) else common


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

    LINE = re.compile(rf"^({SHA256_PATTERN})$")

    def __init__(self):
        self.digest = ""

    def feed(self, line: str) -> None:
        match = self.LINE.match(line.strip())
        if match:
            self.digest = match.group(1)


MACHINE_PLATFORMS = {
    "x86_64": "linux/amd64",
    "amd64": "linux/amd64",
    "aarch64": "linux/arm64",
    "arm64": "linux/arm64",
    "armv7l": "linux/arm/v7",
    "armv6l": "linux/arm/v6",
    "i686": "linux/386",
    "ppc64le": "linux/ppc64le",
    "s390x": "linux/s390x",
    "riscv64": "linux/riscv64",
}


def build_platform() -> str:
    """The platform the worker itself runs (what `$BUILDPLATFORM` means in a Dockerfile)."""
    return MACHINE_PLATFORMS.get(host.machine().lower(), "linux/amd64")


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
