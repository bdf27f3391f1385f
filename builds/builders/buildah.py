"""`buildah` builder, the default: daemonless (no Docker socket needed), and it builds the multi-arch
Dockerfiles people write correctly (`FROM scratch` + `ARG TARGETARCH`, `FROM --platform=$BUILDPLATFORM`,
multi-arch `FROM` images resolved per platform, `RUN` under binfmt emulation).

`buildah build --platform a,b --manifest L` (one run per platform when the build arguments differ by
platform, all adding to the same list L), then `buildah manifest push --all L docker://DEST`. Each
build has its own storage root (vfs, chroot isolation), so builds never share state and the
directory goes with the build. `FROM` images are pulled with the build's read-only credential;
when this registry is plain HTTP, a per-build registries.conf marks that one host insecure (TLS
stays verified for every other registry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from builds.builders.base import BUILDING, PUSHING, Builder, BuildSpec, Command, build_platform, probe
from builds.progress import BUILT, PUSHED, BuildahParser, Progress
from builds.progress import PUSHING as STATE_PUSHING
from repos.oci.platforms import parse_platform

SYSTEM_REGISTRIES_CONF = Path("/etc/containers/registries.conf")


class BuildahBuilder(Builder):
    name = "buildah"

    def available(self) -> tuple[bool, str]:
        return probe("buildah", "--version")

    @staticmethod
    def base(spec: BuildSpec) -> list[str]:
        root = spec.workdir / "buildah"
        return ["buildah", "--root", str(root / "root"), "--runroot", str(root / "run"), "--storage-driver", "vfs"]

    @staticmethod
    def list_name(spec: BuildSpec) -> str:
        return f"localhost/build-{spec.build_id}"

    def pull_settings(self, spec: BuildSpec) -> tuple[list[str], dict[str, str]]:
        """Flags and environment for pulling `FROM` images: the build's read-only credential, and
        plain HTTP to this registry only."""
        flags = ["--authfile", str(spec.pull_auth_file)]
        if not spec.insecure:
            return flags, {}
        system = SYSTEM_REGISTRIES_CONF.read_text() if SYSTEM_REGISTRIES_CONF.is_file() else ""
        if "[registries." in system:
            # A version-1 system file cannot take a [[registry]] table: fall back to the flag.
            return [*flags, "--tls-verify=false"], {}
        conf = spec.workdir / "registries.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f'{system}\n[[registry]]\nlocation = "{spec.registry_host}"\ninsecure = true\n')
        return flags, {"CONTAINERS_REGISTRIES_CONF": str(conf)}

    @staticmethod
    def build_platform_args(spec: BuildSpec) -> list[str]:
        """`FROM --platform=$BUILDPLATFORM` stages run natively only when BUILDPLATFORM is given
        explicitly: buildah 1.28 leaves it empty there and would run the stage under emulation."""
        os_, arch, variant = parse_platform(build_platform())
        values = {
            "BUILDPLATFORM": build_platform(),
            "BUILDOS": os_,
            "BUILDARCH": arch,
            "BUILDVARIANT": variant,
        }
        given = {key for platform in spec.platforms for key in spec.args_for(platform)}
        return [flag for key, value in values.items() if key not in given for flag in ("--build-arg", f"{key}={value}")]

    def commands(self, spec: BuildSpec, progress: Progress) -> Iterator[Command]:
        pull_flags, env = self.pull_settings(spec)
        # Build arguments that differ by platform (ARG ARCH= / FROM ${ARCH}base) need one run per platform.
        runs = [[p] for p in spec.platforms] if spec.args_differ_by_platform else [spec.platforms]
        for platforms in runs:
            yield Command(
                [
                    *self.base(spec),
                    "build",
                    "--isolation",
                    "chroot",
                    "--platform",
                    ",".join(platforms),
                    *pull_flags,
                    # chroot isolation runs RUN steps in the host's network: --network does not apply.
                    "--manifest",
                    self.list_name(spec),
                    *spec.common_build_flags(network=False, platform=platforms[0] if len(platforms) == 1 else None),
                    *self.build_platform_args(spec),
                    str(spec.context),
                ],
                BUILDING,
                parser=BuildahParser(progress, platforms[0] if len(platforms) == 1 else None),
                env=env or None,
                on_success=_marker(progress, platforms, BUILT),
            )
        yield Command(
            [
                *self.base(spec),
                "manifest",
                "push",
                "--all",
                f"--tls-verify={'false' if spec.insecure else 'true'}",
                "--authfile",
                str(spec.auth_file),
                "--digestfile",
                str(spec.workdir / "index-digest"),
                self.list_name(spec),
                f"docker://{spec.destination}",
            ],
            PUSHING,
            on_start=lambda: progress.all(STATE_PUSHING),
            on_success=lambda: progress.all(PUSHED),
        )

    def reported_digest(self, spec: BuildSpec) -> str:
        path = spec.workdir / "index-digest"
        return path.read_text().strip() if path.exists() else ""


def _marker(progress: Progress, platforms: list[str], state: str) -> Callable[[], None]:
    def mark() -> None:
        for platform in platforms:
            progress.state(platform, state)

    return mark
