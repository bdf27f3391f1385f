"""The multi-arch Dockerfiles people write, built by the worker's DEFAULT builder through Celery for
linux/amd64, linux/arm64 and linux/arm/v7; each platform image is pulled back and run with
`docker run --platform` (under qemu for the arm ones) and must print its own architecture.

1. FROM scratch + ARG TARGETARCH + COPY of files named after it (this is also the base image the
   others use: a static busybox per platform, pushed into the private docker-local);
2. ARG ARCH= / FROM ${ARCH}base with build arguments that differ per platform, bound into one index;
3. a stage cross-compiling on the build platform (FROM --platform=$BUILDPLATFORM, ARG TARGETOS TARGETARCH)
   copied into a per-target final stage;
4. FROM this registry's private multi-arch base:1 with RUN steps executed under emulation.
A builder/Dockerfile combination that yields another architecture fails the build and sets no tag.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import requests

from builds.tests.e2e.busybox import GOARCH, UNAME, busybox_binaries
from builds.tests.e2e.conftest import DEV_PASSWORD
from builds.tests.e2e.helpers import full_log, wait_for
from tests.support.clients import docker_env, docker_login, registry_manifest, registry_tags, run, skopeo_copy
from tests.support.content import LINK, tar_gz

pytestmark = pytest.mark.e2e
PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
BUILD_TIMEOUT = 900  # vfs + qemu on a shared 2-core machine

SCRATCH_DOCKERFILE = """\
FROM scratch
ARG TARGETARCH
COPY rootfs-${TARGETARCH}/ /
COPY arch-${TARGETARCH}.txt /arch.txt
"""
PER_PLATFORM_DOCKERFILE = """\
ARG ARCH=
FROM ${ARCH}base
COPY hello.txt /hello.txt
"""
CROSS_DOCKERFILE = """\
FROM --platform=$BUILDPLATFORM {host}/docker-local/base:1 AS build
ARG TARGETOS TARGETARCH
COPY busybox-* /src/
RUN mkdir -p /out/bin && cp /src/busybox-$TARGETARCH /out/bin/busybox && ln -s busybox /out/bin/sh \\
    && echo "$TARGETOS/$TARGETARCH built on $(uname -m)" > /out/built.txt
FROM scratch
COPY --from=build /out/ /
"""
RUN_DOCKERFILE = """\
FROM {host}/docker-local/base:1
RUN uname -m > /built-on.txt && echo "ran on $(cat /arch.txt)" >> /built-on.txt
"""


def start(world, *, dockerfile: str, files: dict, image: str, tags: list[str], platforms=PLATFORMS, **fields) -> dict:
    data = {
        "repository": "docker-local",
        "image": image,
        "tags": ",".join(tags),
        "platforms": ",".join(platforms),
        **fields,
    }
    response = world.api.post(
        f"{world.server.url}/api/builds/",
        data=data,
        files={"context": ("context.tar.gz", tar_gz({"Dockerfile": dockerfile.encode(), **files}))},
    )
    assert response.status_code == 201, response.text
    return response.json()


def build(world, **kwargs) -> dict:
    job = wait_for(world.api, world.server, start(world, **kwargs)["id"], timeout=BUILD_TIMEOUT)
    assert job["status"] == "succeeded", (
        job["error"] + "\n" + "\n".join(full_log(world.api, world.server, job["id"])[-30:])
    )
    return job


def configs(world, job: dict) -> dict[str, dict]:
    """platform -> the pushed image's config, read back through /v2/."""
    name = f"{job['repository']}/{job['image']}"
    result = {}
    for platform, digest in job["platform_digests"].items():
        manifest, _, _ = registry_manifest(world.server, name, digest, session=world.api)
        result[platform] = world.api.get(f"{world.server.url}/v2/{name}/blobs/{manifest['config']['digest']}").json()
    return result


def assert_configs_match(world, job: dict, *, arm_variant_in_config: bool = True) -> None:
    """The index declares each asked platform exactly, and each image's config says that platform.

    With a `FROM --platform=$BUILDPLATFORM` stage, buildah 1.28 writes `arm` without `v7` into the
    final stage's config (the index entry keeps `v7`); docker and containerd read a bare `arm` as
    arm/v7, and so does the build's own check. `arm_variant_in_config=False` allows exactly that."""
    index, digest, _ = registry_manifest(
        world.server, f"{job['repository']}/{job['image']}", job["tags"][0], session=world.api
    )
    assert digest == job["index_digest"]
    declared = {
        m["digest"]: "/".join(
            filter(None, (m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")))
        )
        for m in index["manifests"]
    }
    assert declared == {digest: platform for platform, digest in job["platform_digests"].items()}
    for platform, config in configs(world, job).items():
        os_, arch, *variant = platform.split("/")
        got = (config["os"], config["architecture"], config.get("variant") or "")
        if not arm_variant_in_config and got == ("linux", "arm", ""):
            got = ("linux", "arm", "v7")
        assert got == (os_, arch, "".join(variant))


@pytest.fixture(scope="module")
def docker(world, tmp_path_factory):
    env = docker_env(tmp_path_factory.mktemp("docker-config"))
    docker_login(world.server, env, "dev", DEV_PASSWORD)
    pulled: list[str] = []
    yield env, pulled
    if pulled:
        subprocess.run(["docker", "image", "rm", "--force", *pulled], env=env, capture_output=True)


def run_each_platform(world, docker, job: dict, command: str) -> dict[str, str]:
    """Pull every platform image back by digest and run `command` in it with `docker run --platform`."""
    env, pulled = docker
    outputs = {}
    for platform, digest in job["platform_digests"].items():
        ref = f"{world.server.host}/{job['repository']}/{job['image']}@{digest}"
        run("docker", "pull", "--quiet", "--platform", platform, ref, env=env)
        pulled.append(ref)
        result = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--platform", platform, ref, "sh", "-c", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        outputs[platform] = result.stdout.strip()
    return outputs


def rootfs(prefix: str = "rootfs") -> dict:
    files: dict[str, bytes | tuple[object, str]] = {}
    for goarch, program in busybox_binaries().items():
        files[f"{prefix}-{goarch}/bin/busybox"] = program
        files[f"{prefix}-{goarch}/bin/sh"] = (LINK, "busybox")
        files[f"arch-{goarch}.txt"] = f"{goarch}\n".encode()
    return files


@pytest.fixture(scope="module")
def base(world) -> dict:
    """Dockerfile 1, built by the default builder: docker-local/base:1, busybox for each platform."""
    return build(world, dockerfile=SCRATCH_DOCKERFILE, files=rootfs(), image="base", tags=["1"])


@pytest.fixture(scope="module")
def per_arch_bases(world, base) -> dict[str, str]:
    """The classic per-platform repositories (amd64/base, arm64v8/base, arm32v7/base), copied from base:1."""
    prefixes = {"linux/amd64": "amd64", "linux/arm64": "arm64v8", "linux/arm/v7": "arm32v7"}
    creds = f"dev:{DEV_PASSWORD}"
    for platform, prefix in prefixes.items():
        source = f"{world.server.host}/docker-local/base:1-{platform.replace('/', '-')}"
        skopeo_copy(
            f"docker://{source}",
            f"docker://{world.server.host}/docker-local/{prefix}/base:latest",
            "--quiet",
            src_creds=creds,
            dest_creds=creds,
        )
    return {platform: f"{world.server.host}/docker-local/{prefix}/" for platform, prefix in prefixes.items()}


def test_scratch_with_targetarch_copy(world, base, docker):
    assert base["requested_builder"] == "" and base["builder"] == "buildah"  # the worker's default
    assert base["platforms"] == PLATFORMS
    assert_configs_match(world, base)
    outputs = run_each_platform(world, docker, base, "uname -m; cat /arch.txt")
    assert outputs == {p: f"{UNAME[p]}\n{GOARCH[p]}" for p in PLATFORMS}
    log = full_log(world.api, world.server, base["id"])
    assert "checked linux/arm/v7: config linux/arm/v7, 1 program(s) for arm" in log
    # The base image is private: the build pulled it (below) with its own credential, not anonymously.
    anonymous = requests.get(f"{world.server.url}/v2/docker-local/base/manifests/1")
    assert anonymous.status_code == 401


def test_per_platform_from_with_build_args_keyed_by_platform(world, per_arch_bases, docker):
    build_args = {platform: {"ARCH": prefix} for platform, prefix in per_arch_bases.items()}
    job = build(
        world,
        dockerfile=PER_PLATFORM_DOCKERFILE,
        files={"hello.txt": b"hello\n"},
        image=f"classic-{uuid.uuid4().hex[:6]}",
        tags=["1.0"],
        build_args=json_arg(build_args),
    )
    assert job["build_args"] == build_args
    assert sum(" build --isolation chroot --platform " in c for c in job["commands"]) == 3  # one run each
    assert_configs_match(world, job)
    outputs = run_each_platform(world, docker, job, "uname -m; cat /arch.txt /hello.txt")
    assert outputs == {p: f"{UNAME[p]}\n{GOARCH[p]}\nhello" for p in PLATFORMS}
    assert set(registry_tags(world.server, f"docker-local/{job['image']}", session=world.api)) == {
        "1.0",
        "1.0-linux-amd64",
        "1.0-linux-arm64",
        "1.0-linux-arm-v7",
    }


def test_cross_compiling_stage_runs_on_the_build_platform(world, base, docker):
    files = {f"busybox-{goarch}": program for goarch, program in busybox_binaries().items()}
    job = build(
        world,
        dockerfile=CROSS_DOCKERFILE.format(host=world.server.host),
        files=files,
        image=f"cross-{uuid.uuid4().hex[:6]}",
        tags=["1"],
    )
    assert_configs_match(world, job, arm_variant_in_config=False)
    outputs = run_each_platform(world, docker, job, "uname -m; cat /built.txt")
    # The build stage ran natively (x86_64) and copied each target's program into its final stage.
    assert outputs == {p: f"{UNAME[p]}\nlinux/{GOARCH[p]} built on x86_64" for p in PLATFORMS}


def test_from_a_private_multiarch_image_with_run_under_emulation(world, base, docker):
    job = build(
        world,
        dockerfile=RUN_DOCKERFILE.format(host=world.server.host),
        files={},
        image=f"run-{uuid.uuid4().hex[:6]}",
        tags=["1"],
    )
    assert_configs_match(world, job)
    outputs = run_each_platform(world, docker, job, "uname -m; cat /built-on.txt")
    # The RUN step itself ran on each platform (qemu for arm64 and arm/v7) on that platform's base.
    assert outputs == {p: f"{UNAME[p]}\n{UNAME[p]}\nran on {GOARCH[p]}" for p in PLATFORMS}


def test_from_an_image_of_another_private_repository(world, base, docker):
    """The build pushes into docker-target and pulls its FROM image from docker-local: the pull
    credential reads what its owner reads, the push credential writes the target only."""
    admin = requests.Session()
    admin.auth = ("admin", world.server.admin_password)
    granted = admin.post(
        f"{world.server.url}/api/repositories/docker-target/grants/", json={"user": "dev", "permission": "write"}
    )
    assert granted.status_code == 201, granted.text
    job = build(
        world,
        dockerfile=f"FROM {world.server.host}/docker-local/base:1\nCOPY hello.txt /\n",
        files={"hello.txt": b"hello\n"},
        image=f"elsewhere-{uuid.uuid4().hex[:6]}",
        tags=["1"],
        platforms=["linux/amd64", "linux/arm64"],
        repository="docker-target",
    )
    assert job["repository"] == "docker-target"
    assert_configs_match(world, job)
    outputs = run_each_platform(world, docker, job, "uname -m; cat /arch.txt /hello.txt")
    assert outputs == {p: f"{UNAME[p]}\n{GOARCH[p]}\nhello" for p in ("linux/amd64", "linux/arm64")}


def test_another_architecture_fails_the_build_and_sets_no_tag(world, per_arch_bases):
    """Real builders producing the wrong thing: buildah given the amd64 base for arm64 labels the
    result arm64 (its files are amd64); the legacy docker builder resolves the multi-arch FROM to the
    amd64 image it already has. Both fail, saying what came out, and leave no tag."""
    image = f"wrong-{uuid.uuid4().hex[:6]}"
    swapped = {
        "linux/amd64": {"ARCH": per_arch_bases["linux/amd64"]},
        "linux/arm64": {"ARCH": per_arch_bases["linux/amd64"]},
    }
    job = wait_for(
        world.api,
        world.server,
        start(
            world,
            dockerfile=PER_PLATFORM_DOCKERFILE,
            files={"hello.txt": b"hi\n"},
            image=image,
            tags=["1"],
            platforms=["linux/amd64", "linux/arm64"],
            build_args=json_arg(swapped),
        )["id"],
        timeout=BUILD_TIMEOUT,
    )
    assert job["status"] == "failed" and job["builder"] == "buildah", job
    log = "\n".join(full_log(world.api, world.server, job["id"])[-25:])
    assert (
        "linux/arm64 was asked and the image's config says so, but the programs inside are for amd64 "
        "(1, e.g. /bin/busybox), none for arm64"
    ) in job["error"], log
    assert registry_tags_or_none(world, image) == set()

    legacy = wait_for(
        world.api,
        world.server,
        start(
            world,
            dockerfile=f"FROM {world.server.host}/docker-local/base:1\nCOPY hello.txt /\n",
            files={"hello.txt": b"hi\n"},
            image=f"legacy-{image}",
            tags=["1"],
            platforms=["linux/amd64", "linux/arm64"],
            builder="docker",
        )["id"],
        timeout=BUILD_TIMEOUT,
    )
    assert legacy["status"] == "failed", legacy
    assert "linux/arm64 was asked, but the pushed image holds linux/amd64, linux/amd64" in legacy["error"]
    assert registry_tags_or_none(world, f"legacy-{image}") == set()


def registry_tags_or_none(world, image: str) -> set[str]:
    response = world.api.get(f"{world.server.url}/v2/docker-local/{image}/tags/list")
    return set(response.json().get("tags") or []) if response.status_code == 200 else set()


def json_arg(value: dict) -> str:
    return json.dumps(value)


LOUD_DOCKERFILE = """\
FROM {host}/docker-local/base:1
RUN i=1; while [ $i -le {count} ]; do echo "log line $i of {count}"; \\
    if [ $((i % 300)) -eq 0 ]; then sleep 1; fi; i=$((i+1)); done
"""


def test_live_log_of_thousands_of_lines_in_a_browser(world, base, browser):
    """Chromium follows a build printing 2,400 lines: every line once and in order, no blank lines,
    the last line in view while it runs and at the end; the finished build offers its promotion."""
    from playwright.sync_api import expect

    from tests.support.servers import PROJECT_ROOT

    artifacts = PROJECT_ROOT / "test-artifacts" / "builds"
    artifacts.mkdir(parents=True, exist_ok=True)
    count = 2400
    job = start(
        world,
        dockerfile=LOUD_DOCKERFILE.format(host=world.server.host, count=count),
        files={},
        image=f"loud-{uuid.uuid4().hex[:6]}",
        tags=["1", "latest"],
        platforms=["linux/amd64"],
    )
    url = world.server.url
    last_in_view = """log => { const lines = log.querySelectorAll('.line'); if (!lines.length) return false;
        const box = log.getBoundingClientRect(), last = lines[lines.length - 1].getBoundingClientRect();
        return last.bottom <= box.bottom + 1 && last.top >= box.top - 1; }"""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{url}/accounts/login/?next=/builds/{job['id']}/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", world.server.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/builds/{job['id']}/")
    log = page.locator("#build-log")
    # While it runs: lines keep coming and "follow" keeps the newest one in view.
    page.locator("#build-log .line", has_text=f"log line 600 of {count}").wait_for(timeout=BUILD_TIMEOUT * 1000)
    assert log.get_attribute("data-complete") is None
    assert log.evaluate(last_in_view)
    page.screenshot(path=str(artifacts / "build-log-following.png"))
    page.locator("#build-status[data-status=succeeded]").wait_for(timeout=BUILD_TIMEOUT * 1000)
    page.locator("#build-log[data-complete=true]").wait_for(timeout=60000)
    shown = log.locator(".line").all_text_contents()
    assert shown == full_log(world.api, world.server, job["id"])  # every line once, in order
    assert "" not in shown and log.evaluate("log => log.textContent.includes('\\n')") is False
    printed = [line for line in shown if line.startswith("log line ")]
    assert printed == [f"log line {i} of {count}" for i in range(1, count + 1)]
    assert len(shown) > count and log.evaluate(last_in_view)
    assert shown[-1] in page.locator("#build-log .line").last.inner_text()
    page.screenshot(path=str(artifacts / "build-log-finished-1440.png"), full_page=True)
    # Scrolling up stops following; the log stays where the reader put it.
    log.evaluate("log => log.scrollTop = 0")
    expect(page.locator("#log-follow")).not_to_be_checked()
    # The finished build offers its promotion, the form filled in with the built tag.
    page.set_viewport_size({"width": 390, "height": 900})
    page.screenshot(path=str(artifacts / "build-log-finished-390.png"), full_page=True)
    page.click("text=Promote this build")
    page.wait_for_url("**/promotions/new/?*")
    assert page.input_value("#id_image") == job["image"] and page.input_value("#id_source_tag") == "1"
    page.goto(f"{url}/")
    expect(page.locator(f"a[href='/builds/{job['id']}/']").first).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.screenshot(path=str(artifacts / "home-recent-builds.png"), full_page=True)
