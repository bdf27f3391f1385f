"""Builder backends. A worker uses the one the build asks for, else BUILD_BUILDER, else the first
available of buildah, buildx, docker (see AUTO_ORDER)."""

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
# buildah first: it builds every multi-arch Dockerfile pattern right (FROM scratch + ARG TARGETARCH,
# multi-arch FROM images, $BUILDPLATFORM stages, RUN under emulation) without a daemon. The legacy
# `docker build` gets the first two wrong, so it comes last.
AUTO_ORDER = ("buildah", "buildx", "docker")

__all__ = [
    "AUTO_ORDER",
    "BUILDERS",
    "BUILDER_NAMES",
    "BUILDING",
    "PUSHING",
    "BuildSpec",
    "Builder",
    "Command",
    "builder_choose",
]


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
    for name in AUTO_ORDER:
        builder = BUILDERS[name]()
        ok, reason = builder.available()
        if ok:
            return builder
        reasons.append(f"{name}: {reason}")
    raise BuildError("no builder is available on this worker (" + "; ".join(reasons) + ")")
