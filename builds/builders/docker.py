"""`docker` builder, for engines without buildx: one legacy `docker build --platform P` per platform,
a push of each, then `docker manifest create` + `docker manifest push` for the index."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from builds.builders.base import BUILDING, PUSHING, Builder, BuildSpec, Command, DigestCapture, probe
from builds.progress import BUILT, PUSHED, DockerLegacyParser, Progress
from builds.progress import PUSHING as STATE_PUSHING
from repos.oci.platforms import label_platform_tag


def platform_ref(spec: BuildSpec, platform: str) -> str:
    tag = label_platform_tag(spec.staging_tag, platform)
    return f"{spec.repository_ref}:{tag}"


class DockerBuilder(Builder):
    name = "docker"

    def available(self) -> tuple[bool, str]:
        return probe("docker", "version", "--format", "{{.Server.Version}}")

    def commands(self, spec: BuildSpec, progress: Progress) -> Iterator[Command]:
        docker = ["docker", "--config", str(spec.docker_config)]
        refs = {platform: platform_ref(spec, platform) for platform in spec.platforms}
        self._parsers = []
        for platform, ref in refs.items():
            parser = DockerLegacyParser(progress, platform)
            self._parsers.append(parser)
            yield Command(
                # --no-cache: the legacy cache does not tell platforms apart for FROM scratch stages
                # (an arm64 build would reuse the amd64 layers and config). It pulls FROM images with
                # the read-only credential; pushes use the write one.
                [
                    "docker",
                    "--config",
                    str(spec.pull_docker_config),
                    "build",
                    "--no-cache",
                    "--platform",
                    platform,
                    *spec.common_build_flags(platform=platform),
                    "--tag",
                    ref,
                    str(spec.context),
                ],
                BUILDING,
                parser=parser,
                env={"DOCKER_BUILDKIT": "0"},
                on_success=partial(progress.state, platform, BUILT),
            )
        for platform, ref in refs.items():
            yield Command(
                [*docker, "push", ref],
                PUSHING,
                on_start=partial(progress.state, platform, STATE_PUSHING),
                on_success=partial(progress.state, platform, PUSHED),
            )
        insecure = ["--insecure"] if spec.insecure else []
        yield Command([*docker, "manifest", "create", *insecure, spec.destination, *refs.values()], PUSHING)
        self._pushed = DigestCapture()
        yield Command(
            [*docker, "manifest", "push", *insecure, "--purge", spec.destination], PUSHING, parser=self._pushed
        )

    def reported_digest(self, spec: BuildSpec) -> str:
        pushed = getattr(self, "_pushed", None)
        return pushed.digest if pushed else ""

    def cleanup(self, spec: BuildSpec) -> list[list[str]]:
        refs = [platform_ref(spec, platform) for platform in spec.platforms]
        docker = ["docker", "--config", str(spec.docker_config), "image", "rm"]
        commands = [[*docker, "--force", *refs]]
        # What a failed or cancelled build made before it stopped is untagged: remove it by id (never
        # forced, so an image something else still uses stays).
        made = [image for parser in getattr(self, "_parsers", []) for image in parser.images]
        if made:
            commands.append([*docker, *reversed(made)])  # children first
        return commands
