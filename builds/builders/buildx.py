"""`buildx` builder, the production path where the Docker buildx plugin is installed:
`docker buildx build --platform a,b --push` builds every platform with BuildKit and pushes the
index in one command. Progress comes from `--progress plain`, the digest from `--metadata-file`.

Multi-platform output needs a builder instance with the docker-container (or kubernetes) driver,
named by BUILD_BUILDX_BUILDER; BuildKit then runs in a container, so BUILD_REGISTRY_HOST must be an
address that container reaches (not 127.0.0.1).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from builds.builders.base import BUILDING, Builder, BuildSpec, Command, probe
from builds.errors import BuildError
from builds.progress import PUSHED, BuildxParser, Progress


def _user_docker_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


class BuildxBuilder(Builder):
    name = "buildx"

    def available(self) -> tuple[bool, str]:
        return probe("docker", "buildx", "version")

    def argv(self, spec: BuildSpec) -> list[str]:
        argv = ["docker", "--config", str(spec.docker_config), "buildx", "build"]
        if settings.BUILD_BUILDX_BUILDER:
            argv += ["--builder", settings.BUILD_BUILDX_BUILDER]
        output = "type=registry,registry.insecure=true" if spec.insecure else "type=registry"
        return [
            *argv,
            "--platform",
            ",".join(spec.platforms),
            *spec.common_build_flags(),
            "--progress",
            "plain",
            "--tag",
            spec.destination,
            "--output",
            output,
            "--metadata-file",
            str(spec.workdir / "buildx-metadata.json"),
            str(spec.context),
        ]

    def env(self, spec: BuildSpec) -> dict[str, str]:
        """The per-build DOCKER_CONFIG holds only the credential; builder instances and plugins stay
        where the worker's user keeps them."""
        user_dir = _user_docker_dir()
        plugins = user_dir / "cli-plugins"
        if plugins.is_dir() and not (spec.docker_config / "cli-plugins").exists():
            spec.docker_config.mkdir(parents=True, exist_ok=True)
            (spec.docker_config / "cli-plugins").symlink_to(plugins)
        return {"BUILDX_CONFIG": os.environ.get("BUILDX_CONFIG") or str(user_dir / "buildx"), "DOCKER_BUILDKIT": "1"}

    def commands(self, spec: BuildSpec, progress: Progress) -> Iterator[Command]:
        if spec.args_differ_by_platform:
            raise BuildError(
                "buildx builds every platform in one run, so its build arguments cannot differ "
                "by platform; use the buildah or docker builder"
            )
        yield Command(
            self.argv(spec),
            BUILDING,
            parser=BuildxParser(progress),
            env=self.env(spec),
            on_success=lambda: progress.all(PUSHED),
        )

    def reported_digest(self, spec: BuildSpec) -> str:
        path = spec.workdir / "buildx-metadata.json"
        try:
            return str(json.loads(path.read_text()).get("containerimage.digest", ""))
        except (OSError, ValueError, AttributeError):
            return ""
