"""`buildah` builder, daemonless (no Docker socket needed): `buildah build --platform a,b --manifest L`
then `buildah manifest push --all L docker://DEST`. Each build has its own storage root (vfs,
chroot isolation), so builds never share state and the directory goes with the build."""
from __future__ import annotations

from typing import Iterator

from builds.builders.base import BUILDING, PUSHING, Builder, BuildSpec, Command, probe
from builds.progress import BUILT, PUSHED, PUSHING as STATE_PUSHING, BuildahParser, Progress


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

    def commands(self, spec: BuildSpec, progress: Progress) -> Iterator[Command]:
        yield Command(
            [*self.base(spec), "build", "--isolation", "chroot", "--platform", ",".join(spec.platforms),
             # chroot isolation runs RUN steps in the host's network: --network does not apply.
             "--manifest", self.list_name(spec), *spec.common_build_flags(network=False), str(spec.context)],
            BUILDING,
            parser=BuildahParser(progress),
            on_success=lambda: progress.all(BUILT),
        )
        yield Command(
            [*self.base(spec), "manifest", "push", "--all", f"--tls-verify={'false' if spec.insecure else 'true'}",
             "--authfile", str(spec.auth_file), "--digestfile", str(spec.workdir / "index-digest"),
             self.list_name(spec), f"docker://{spec.destination}"],
            PUSHING,
            on_start=lambda: progress.all(STATE_PUSHING),
            on_success=lambda: progress.all(PUSHED),
        )

    def reported_digest(self, spec: BuildSpec) -> str:
        path = spec.workdir / "index-digest"
        return path.read_text().strip() if path.exists() else ""
