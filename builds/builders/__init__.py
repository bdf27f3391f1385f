"""Builder backends. A worker uses the one the build asks for, else BUILD_BUILDER, else the first
available of buildx, docker, buildah."""
from __future__ import annotations

from django.conf import settings

from builds.builders.base import BUILDING, PUSHING, Builder, BuildSpec, Command
from builds.builders.buildah import BuildahBuilder
from builds.builders.buildx import BuildxBuilder
from builds.builders.docker import DockerBuilder
from builds.errors import BuildError

BUILDERS: dict[str, type[Builder]] = {
    "buildx": BuildxBuilder,
    "docker": DockerBuilder,
    "buildah": BuildahBuilder,
}
BUILDER_NAMES = tuple(BUILDERS)

__all__ = ["BUILDERS", "BUILDER_NAMES", "BUILDING", "PUSHING", "BuildSpec", "Builder", "Command", "builder_choose"]


def builder_choose(requested: str = "") -> Builder:
    wanted = requested or settings.BUILD_BUILDER
    if wanted:
        if wanted not in BUILDERS:
            raise BuildError(f"unknown builder {wanted!r}; choose one of {', '.join(BUILDER_NAMES)}")
        builder = BUILDERS[wanted]()
        ok, reason = builder.available()
        if not ok:
            raise BuildError(f"builder {wanted} is not available on this worker: {reason}")
        return builder
    reasons = []
    for name, cls in BUILDERS.items():
        builder = cls()
        ok, reason = builder.available()
        if ok:
            return builder
        reasons.append(f"{name}: {reason}")
    raise BuildError("no builder is available on this worker (" + "; ".join(reasons) + ")")


def builders_available() -> list[str]:
    return [name for name, cls in BUILDERS.items() if cls().available()[0]]
