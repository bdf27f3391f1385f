"""docker push / manifest push / pull against the running server, with a real Docker engine."""

import re
import uuid

import pytest

from tests.support.clients import (
    docker_available,
    docker_env,
    docker_login,
    registry_manifest,
    registry_tags,
    run,
    write_context,
)

pytestmark = pytest.mark.e2e


def _pulled_digest(output: str) -> str:
    match = re.search(r"Digest: (sha256:[0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


def test_docker_multiarch_push_and_pull(registry_server, tmp_path):
    docker_available()
    env = docker_env(tmp_path / "docker-config")
    assert "Login Succeeded" in docker_login(registry_server, env)

    def docker(*args: str) -> str:
        return run("docker", *args, env=env)

    image = f"{registry_server.host}/docker-local/multiarch-image"
    suffix = uuid.uuid4().hex[:6]
    per_arch = {}
    for platform in ("linux/amd64", "linux/arm64"):
        arch = platform.split("/")[1]
        context = write_context(tmp_path / arch, content=f"hello from {arch} {suffix}\n")
        ref = f"{image}:build-{arch}"
        docker("build", "--platform", platform, "-t", ref, str(context))
        docker("push", ref)
        per_arch[arch] = ref
    docker("manifest", "create", "--insecure", "--amend", f"{image}:tag", *per_arch.values())
    pushed = docker("manifest", "push", "--insecure", "--purge", f"{image}:tag")
    pushed_digest = re.search(r"sha256:[0-9a-f]{64}", pushed).group(0)

    tags = registry_tags(registry_server, "docker-local/multiarch-image")
    assert {"tag", "tag-linux-amd64", "tag-linux-arm64"} <= set(tags)
    index, index_digest, _ = registry_manifest(registry_server, "docker-local/multiarch-image", "tag")
    assert index_digest == pushed_digest
    assert index["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    platforms = {(m["platform"]["os"], m["platform"]["architecture"]) for m in index["manifests"]}
    assert platforms == {("linux", "amd64"), ("linux", "arm64")}
    for arch in ("amd64", "arm64"):
        _, child_digest, _ = registry_manifest(registry_server, "docker-local/multiarch-image", f"tag-linux-{arch}")
        assert child_digest in {m["digest"] for m in index["manifests"]}

    for ref in per_arch.values():
        docker("rmi", "-f", ref)
    by_tag = _pulled_digest(docker("pull", f"{image}:tag"))
    by_digest = _pulled_digest(docker("pull", f"{image}@{index_digest}"))
    assert by_tag == by_digest == index_digest
    arm = docker("pull", "--platform", "linux/arm64", f"{image}:tag")
    assert _pulled_digest(arm) == index_digest
    inspected = docker("image", "inspect", "--format", "{{.Architecture}}", f"{image}@{index_digest}")
    assert inspected.strip() in ("amd64", "arm64")
    docker("rmi", "-f", f"{image}:tag", f"{image}@{index_digest}")
