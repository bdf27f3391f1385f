"""Builder backends: the exact command lines, and which builder a worker picks."""

from pathlib import Path
from typing import Any

import pytest

from builds.builders import AUTO_ORDER, BUILDERS, BuildSpec, builder_choose
from builds.builders.buildah import BuildahBuilder
from builds.builders.buildx import BuildxBuilder
from builds.builders.docker import DockerBuilder
from builds.errors import BuildError
from builds.progress import PUSHED, BuildxParser, Progress

DEST = "reg.example:5000/docker-local/app:tmp-build-7"


def make_spec(tmp_path: Path, **overrides) -> BuildSpec:
    values: dict[str, Any] = dict(
        build_id=7,
        context=tmp_path / "src",
        dockerfile=tmp_path / "src/Dockerfile",
        platforms=["linux/amd64", "linux/arm64"],
        destination=DEST,
        workdir=tmp_path / "work",
        build_args={"VERSION": "1.2"},
        target="runtime",
        labels={"org.opencontainers.image.revision": "abc"},
        network="none",
        insecure=True,
    )
    values.update(overrides)
    return BuildSpec(**values)


def test_buildx_command_line(tmp_path, settings):
    settings.BUILD_BUILDX_BUILDER = "multiarch"
    spec = make_spec(tmp_path)
    assert BuildxBuilder().argv(spec) == [
        "docker",
        "--config",
        str(tmp_path / "work/docker"),
        "buildx",
        "build",
        "--builder",
        "multiarch",
        "--platform",
        "linux/amd64,linux/arm64",
        "--file",
        str(tmp_path / "src/Dockerfile"),
        "--build-arg",
        "VERSION=1.2",
        "--label",
        "org.opencontainers.image.revision=abc",
        "--target",
        "runtime",
        "--network",
        "none",
        "--progress",
        "plain",
        "--tag",
        DEST,
        "--output",
        "type=registry,registry.insecure=true",
        "--metadata-file",
        str(tmp_path / "work/buildx-metadata.json"),
        str(tmp_path / "src"),
    ]
    settings.BUILD_BUILDX_BUILDER = ""
    secure = BuildxBuilder().argv(make_spec(tmp_path, insecure=False, network="", build_args={}, labels={}, target=""))
    assert "--builder" not in secure and "--network" not in secure
    assert secure[secure.index("--output") + 1] == "type=registry"


def test_buildx_keeps_the_users_plugins_and_builder_instances(tmp_path, monkeypatch):
    user_dir = tmp_path / "home-docker"
    (user_dir / "cli-plugins").mkdir(parents=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(user_dir))
    monkeypatch.delenv("BUILDX_CONFIG", raising=False)
    spec = make_spec(tmp_path)
    progress = Progress(spec.platforms)
    [command] = list(BuildxBuilder().commands(spec, progress))
    assert command.env == {"BUILDX_CONFIG": str(user_dir / "buildx"), "DOCKER_BUILDKIT": "1"}
    assert (spec.docker_config / "cli-plugins").resolve() == (user_dir / "cli-plugins").resolve()
    assert isinstance(command.parser, BuildxParser) and command.phase == "building"
    command.on_success()
    assert {e["state"] for e in progress.snapshot().values()} == {PUSHED}


def test_docker_builder_commands(tmp_path):
    spec = make_spec(tmp_path, build_args={}, labels={}, target="")
    docker = ["docker", "--config", str(tmp_path / "work/docker")]
    pulling = ["docker", "--config", str(tmp_path / "work/docker-pull")]  # FROM pulls: the read-only credential
    commands = list(DockerBuilder().commands(spec, Progress(spec.platforms)))
    amd, arm = (f"reg.example:5000/docker-local/app:tmp-build-7-linux-{a}" for a in ("amd64", "arm64"))
    assert [c.argv for c in commands] == [
        [
            *pulling,
            "build",
            "--no-cache",
            "--platform",
            "linux/amd64",
            "--file",
            str(spec.dockerfile),
            "--network",
            "none",
            "--tag",
            amd,
            str(spec.context),
        ],
        [
            *pulling,
            "build",
            "--no-cache",
            "--platform",
            "linux/arm64",
            "--file",
            str(spec.dockerfile),
            "--network",
            "none",
            "--tag",
            arm,
            str(spec.context),
        ],
        [*docker, "push", amd],
        [*docker, "push", arm],
        [*docker, "manifest", "create", "--insecure", DEST, amd, arm],
        [*docker, "manifest", "push", "--insecure", "--purge", DEST],
    ]
    assert [c.phase for c in commands] == ["building"] * 2 + ["pushing"] * 4
    assert commands[0].env == {"DOCKER_BUILDKIT": "0"}
    assert DockerBuilder().cleanup(spec) == [[*docker, "image", "rm", "--force", amd, arm]]


def test_docker_builder_variant_tags(tmp_path):
    spec = make_spec(tmp_path, platforms=["linux/arm/v7"])
    build = next(iter(DockerBuilder().commands(spec, Progress(spec.platforms))))
    assert build.argv[build.argv.index("--tag") + 1].endswith(":tmp-build-7-linux-arm-v7")


def test_buildah_builder_commands(tmp_path, monkeypatch):
    system_conf = tmp_path / "registries.conf"
    system_conf.write_text('unqualified-search-registries = ["docker.io"]\n')
    monkeypatch.setattr("builds.builders.buildah.SYSTEM_REGISTRIES_CONF", system_conf)
    spec = make_spec(tmp_path, build_args={}, labels={}, target="")
    monkeypatch.setattr("builds.builders.buildah.build_platform", lambda: "linux/amd64")
    base = [
        "buildah",
        "--root",
        str(tmp_path / "work/buildah/root"),
        "--runroot",
        str(tmp_path / "work/buildah/run"),
        "--storage-driver",
        "vfs",
    ]
    build, push = list(BuildahBuilder().commands(spec, Progress(spec.platforms)))
    # chroot isolation shares the host network: no --network. FROM images are pulled with the
    # read-only credential, the push uses the write one.
    assert build.argv == [
        *base,
        "build",
        "--isolation",
        "chroot",
        "--platform",
        "linux/amd64,linux/arm64",
        "--authfile",
        str(tmp_path / "work/docker-pull/config.json"),
        "--manifest",
        "localhost/build-7",
        "--file",
        str(spec.dockerfile),
        # FROM --platform=$BUILDPLATFORM stages run natively (buildah leaves it empty otherwise).
        "--build-arg",
        "BUILDPLATFORM=linux/amd64",
        "--build-arg",
        "BUILDOS=linux",
        "--build-arg",
        "BUILDARCH=amd64",
        "--build-arg",
        "BUILDVARIANT=",
        str(spec.context),
    ]
    # Plain HTTP to this registry only: the system file plus one insecure [[registry]] for its host.
    conf = Path(build.env["CONTAINERS_REGISTRIES_CONF"])
    assert conf.read_text() == (
        'unqualified-search-registries = ["docker.io"]\n\n'
        '[[registry]]\nlocation = "reg.example:5000"\ninsecure = true\n'
    )
    assert push.argv == [
        *base,
        "manifest",
        "push",
        "--all",
        "--tls-verify=false",
        "--authfile",
        str(tmp_path / "work/docker/config.json"),
        "--digestfile",
        str(tmp_path / "work/index-digest"),
        "localhost/build-7",
        f"docker://{DEST}",
    ]
    secure = list(BuildahBuilder().commands(make_spec(tmp_path, insecure=False), Progress(spec.platforms)))[0]
    assert secure.env is None and "--tls-verify=false" not in secure.argv
    system_conf.write_text("[registries.insecure]\nregistries = []\n")  # version 1: no [[registry]] tables
    old_style = list(BuildahBuilder().commands(spec, Progress(spec.platforms)))[0]
    assert old_style.env is None and "--tls-verify=false" in old_style.argv


def test_buildah_runs_once_per_platform_when_build_args_differ(tmp_path):
    spec = make_spec(
        tmp_path,
        platforms=["linux/amd64", "linux/arm64", "linux/arm/v7"],
        labels={},
        target="",
        build_args={"VERSION": "1", "linux/arm64": {"ARCH": "h/arm64v8/"}, "linux/arm/v7": {"ARCH": "h/arm32v7/"}},
    )
    progress = Progress(spec.platforms)
    *builds, push = list(BuildahBuilder().commands(spec, progress))
    assert [b.argv[b.argv.index("--platform") + 1] for b in builds] == spec.platforms
    args = [[b.argv[i + 1] for i, a in enumerate(b.argv) if a == "--build-arg"] for b in builds]
    args = [[a for a in run if not a.startswith("BUILD")] for run in args]
    assert args == [["VERSION=1"], ["VERSION=1", "ARCH=h/arm64v8/"], ["VERSION=1", "ARCH=h/arm32v7/"]]
    assert all(b.argv[b.argv.index("--manifest") + 1] == "localhost/build-7" for b in builds)  # one index
    builds[1].parser.feed("STEP 2/3: COPY x /")  # a single-platform run's lines carry no platform prefix
    assert progress.snapshot()["linux/arm64"]["done"] == 1 and progress.snapshot()["linux/amd64"]["done"] == 0
    builds[1].on_success()
    assert progress.snapshot()["linux/arm64"]["state"] == "built"
    same = make_spec(tmp_path, build_args={"linux/amd64": {"ARCH": "h/amd64/"}, "linux/arm64": {"ARCH": "h/amd64/"}})
    [single, _] = list(BuildahBuilder().commands(same, Progress(same.platforms)))  # the same for both: one run
    assert "ARCH=h/amd64/" in single.argv and "linux/amd64,linux/arm64" in single.argv
    with pytest.raises(BuildError, match="cannot differ by platform"):
        list(BuildxBuilder().commands(spec, progress))
    docker_args = [c.argv for c in DockerBuilder().commands(spec, progress) if "build" in c.argv]
    assert "ARCH=h/arm32v7/" in docker_args[2] and "ARCH=h/arm64v8/" not in docker_args[0]


def test_builder_choice(settings):
    settings.BUILD_BUILDER = ""
    chosen = builder_choose()
    assert chosen.available()[0]
    earlier = AUTO_ORDER[: AUTO_ORDER.index(chosen.name)]
    assert AUTO_ORDER[0] == "buildah"  # the default where installed: it builds every pattern right
    assert not any(BUILDERS[name]().available()[0] for name in earlier)
    with pytest.raises(BuildError, match="unknown builder"):
        builder_choose("kaniko")
    settings.BUILD_BUILDER = "buildx"
    if BuildxBuilder().available()[0]:
        assert builder_choose().name == "buildx"
    else:
        with pytest.raises(BuildError, match="builder buildx is not available"):
            builder_choose()
    assert builder_choose("buildah").name == "buildah"  # the build's own choice wins over the setting


def test_reported_digests(tmp_path):
    spec = make_spec(tmp_path)
    spec.workdir.mkdir(parents=True)
    digest = "sha256:" + "ab" * 32
    docker = DockerBuilder()
    push = list(docker.commands(spec, Progress(spec.platforms)))[-1]
    for line in ["Created manifest list x", f"{digest}\n"]:
        push.parser.feed(line)
    assert docker.reported_digest(spec) == digest
    (spec.workdir / "index-digest").write_text(digest)
    assert BuildahBuilder().reported_digest(spec) == digest
    (spec.workdir / "buildx-metadata.json").write_text(
        '{"containerimage.digest": "%s", "image.name": "%s"}' % (digest, DEST)
    )
    assert BuildxBuilder().reported_digest(spec) == digest
    (spec.workdir / "buildx-metadata.json").write_text("not json")
    assert BuildxBuilder().reported_digest(spec) == ""


def test_docker_builder_removes_what_a_stopped_build_made(tmp_path):
    spec = make_spec(tmp_path, platforms=["linux/amd64"])
    builder = DockerBuilder()
    build = next(iter(builder.commands(spec, Progress(spec.platforms))))
    recorded = (Path(__file__).parent / "data/docker_legacy_build.txt").read_text().splitlines()
    for line in ["Step 1/3 : FROM alpine:3.20", " ---> 0123456789ab", *recorded[5:13]]:  # stops before the end
        build.parser.feed(line)
    removal = builder.cleanup(spec)[1]
    assert removal[-3:] == ["rm", "c452fdc504a2", "fa669b9741b5"]  # not the base image 0123456789ab
