"""Pushing a tag again, as a CI job does on every run, with each stock client, as a plain writer.

Every client goes through the Docker token flow (the server answers `/v2/` with a Bearer challenge) and asks
for `pull,push` only. The second push of a moved tag must pass, and the per-platform tags must follow the
moved index; a repository with immutable tags refuses with a message naming the setting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import oras.client
import pytest
import requests

from tests.support.clients import (
    admin_session,
    buildah_build_list,
    docker_available,
    docker_env,
    docker_login,
    podman,
    push_list,
    registry_manifest,
    registry_tags,
    run,
    short_runroot,
    skopeo_copy,
)
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e
WRITER = "ci-writer"
PASSWORD = f"pw-{uuid.uuid4().hex}"
PLATFORMS = ("amd64", "arm64")


@dataclass
class Versions:
    """Two builds of one multi-arch image (v1, v2) in local buildah/podman storage and in the registry."""

    storage: Path
    lists: dict[str, str]  # version -> local manifest list name
    children: dict[str, dict[str, str]]  # version -> arch -> child digest in the registry
    indexes: dict[str, str]  # version -> index digest


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A writer (write on docker-local and docker-frozen, nothing more) and a repository with immutable tags."""
    with running_server(tmp_path_factory.mktemp("tag-moves")) as running:
        running.manage(
            "shell",
            "-c",
            "from repos.models import Repository; "
            "Repository.objects.create(key='docker-frozen', tag_immutability=True)",
        )
        admin = admin_session(running)
        created = admin.post(f"{running.url}/api/users/", json={"username": WRITER, "password": PASSWORD})
        assert created.status_code == 201, created.text
        for key in ("docker-local", "docker-frozen"):
            granted = admin.post(
                f"{running.url}/api/repositories/{key}/grants/", json={"user": WRITER, "permission": "write"}
            )
            assert granted.status_code == 201, granted.text
        yield running


@pytest.fixture(scope="module")
def versions(server, tmp_path_factory):
    """v1 and v2 of `src`, each built by buildah for linux/amd64 and linux/arm64, pushed as the writer."""
    tmp = tmp_path_factory.mktemp("versions")
    storage = tmp / "storage"
    result = Versions(storage=storage, lists={}, children={}, indexes={})
    salt = uuid.uuid4().hex[:8]
    for version in ("v1", "v2"):
        context = tmp / version
        context.mkdir()
        (context / "version.txt").write_text(f"{version} {salt}\n")
        (context / "Dockerfile").write_text("FROM scratch\nCOPY version.txt /\n")
        name = f"localhost/tag-moves-{version}-{salt}"
        buildah_build_list(storage, context, name)
        push_list(storage, name, f"docker://{server.host}/docker-local/src:{version}", f"{WRITER}:{PASSWORD}")
        index, digest, _ = registry_manifest(server, "docker-local/src", version)
        result.lists[version] = name
        result.indexes[version] = digest
        result.children[version] = {m["platform"]["architecture"]: m["digest"] for m in index["manifests"]}
    assert result.indexes["v1"] != result.indexes["v2"]
    yield result
    shutil.rmtree(short_runroot(storage), ignore_errors=True)


def _assert_points_at(server, name: str, tag: str, versions: Versions, version: str) -> None:
    """`tag` is the index of `version`, and each per-platform tag names that version's image."""
    _, digest, _ = registry_manifest(server, name, tag)
    assert digest == versions.indexes[version]
    tags = registry_tags(server, name)
    for arch in PLATFORMS:
        assert f"{tag}-linux-{arch}" in tags
        _, child, _ = registry_manifest(server, name, f"{tag}-linux-{arch}")
        assert child == versions.children[version][arch], arch


def _skopeo_copy(server, source: str, target: str, creds: str) -> str:
    return skopeo_copy(
        f"docker://{server.host}/{source}",
        f"docker://{server.host}/{target}",
        "--all",
        src_creds=creds,
        dest_creds=creds,
    )


def test_skopeo_moves_a_tag_and_the_platform_tags_follow(server, versions):
    creds = f"{WRITER}:{PASSWORD}"
    _skopeo_copy(server, "docker-local/src:v1", "docker-local/app:skopeo", creds)
    _assert_points_at(server, "docker-local/app", "skopeo", versions, "v1")
    _skopeo_copy(server, "docker-local/src:v2", "docker-local/app:skopeo", creds)
    _assert_points_at(server, "docker-local/app", "skopeo", versions, "v2")


def test_skopeo_with_a_write_api_token_moves_a_tag(server, versions):
    response = requests.post(
        f"{server.url}/api/tokens/",
        auth=(WRITER, PASSWORD),
        json={"name": "ci", "permissions": ["read", "write"], "repositories": ["docker-local"]},
    )
    assert response.status_code == 201, response.text
    creds = f"token:{response.json()['token']}"
    _skopeo_copy(server, "docker-local/src:v1", "docker-local/app:token", creds)
    _skopeo_copy(server, "docker-local/src:v2", "docker-local/app:token", creds)
    _assert_points_at(server, "docker-local/app", "token", versions, "v2")


def test_buildah_moves_a_tag_and_the_platform_tags_follow(server, versions):
    target = f"docker://{server.host}/docker-local/app:buildah"
    for version in ("v1", "v2"):
        push_list(versions.storage, versions.lists[version], target, f"{WRITER}:{PASSWORD}")
        _assert_points_at(server, "docker-local/app", "buildah", versions, version)


def test_podman_moves_a_tag_and_the_platform_tags_follow(server, versions):
    target = f"docker://{server.host}/docker-local/app:podman"
    for version in ("v1", "v2"):
        push_list(versions.storage, versions.lists[version], target, f"{WRITER}:{PASSWORD}", tool=podman)
        _assert_points_at(server, "docker-local/app", "podman", versions, version)


def test_docker_moves_a_tag_and_the_platform_tags_follow(server, versions, tmp_path):
    docker_available()
    env = docker_env(tmp_path / "docker-config")
    assert "Login Succeeded" in docker_login(server, env, WRITER, PASSWORD)
    image = f"{server.host}/docker-local/app"
    try:
        # An index, moved with `docker manifest push`.
        for version in ("v1", "v2"):
            children = [f"{server.host}/docker-local/src@{versions.children[version][arch]}" for arch in PLATFORMS]
            run("docker", "manifest", "create", "--insecure", "--amend", f"{image}:docker", *children, env=env)
            run("docker", "manifest", "push", "--insecure", "--purge", f"{image}:docker", env=env)
            for arch in PLATFORMS:
                _, child, _ = registry_manifest(server, "docker-local/app", f"docker-linux-{arch}")
                assert child == versions.children[version][arch]
        # One image, moved with `docker push` (docker rewrites the OCI manifest as a Docker v2 one).
        pushed = []
        for version in ("v1", "v2"):
            run("docker", "pull", f"{server.host}/docker-local/src:{version}-linux-amd64", env=env)
            run("docker", "tag", f"{server.host}/docker-local/src:{version}-linux-amd64", f"{image}:single", env=env)
            output = run("docker", "push", f"{image}:single", env=env)
            pushed.append(re.search(r"digest: (sha256:[0-9a-f]{64})", output).group(1))
            assert registry_manifest(server, "docker-local/app", "single")[1] == pushed[-1]
        assert pushed[0] != pushed[1]
    finally:
        for ref in (f"{image}:single", *(f"{server.host}/docker-local/src:{v}-linux-amd64" for v in ("v1", "v2"))):
            subprocess.run(["docker", "rmi", "-f", ref], capture_output=True)


def test_oras_moves_a_tag(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # oras-py only uploads files below the working directory
    client = oras.client.OrasClient(hostname=server.host, insecure=True)
    client.auth.set_basic_auth(WRITER, PASSWORD)
    target = f"{server.host}/docker-local/notes:latest"
    digests = []
    for text in ("first notes\n", "second notes\n"):
        (tmp_path / "notes.txt").write_text(text)
        assert client.push(target=target, files=["notes.txt"]).status_code == 201
        digests.append(registry_manifest(server, "docker-local/notes", "latest")[1])
    assert digests[0] != digests[1]
    client.pull(target=target, outdir=str(tmp_path / "out"))
    assert (tmp_path / "out" / "notes.txt").read_text() == "second notes\n"


IMMUTABLE = r"immutable tags \(setting \\?\"?Immutable tags\\?\"?, tag_immutability\)"


def test_an_immutable_repository_refuses_skopeo_buildah_and_docker(server, versions, tmp_path):
    creds = f"{WRITER}:{PASSWORD}"
    _skopeo_copy(server, "docker-local/src:v1", "docker-frozen/app:1.0", creds)
    _skopeo_copy(server, "docker-local/src:v1", "docker-frozen/app:1.0", creds)  # the same content again: fine
    with pytest.raises(AssertionError, match=IMMUTABLE):
        _skopeo_copy(server, "docker-local/src:v2", "docker-frozen/app:1.0", creds)
    with pytest.raises(AssertionError, match=IMMUTABLE):
        push_list(versions.storage, versions.lists["v2"], f"docker://{server.host}/docker-frozen/app:1.0", creds)
    docker_available()
    env = docker_env(tmp_path / "docker-config")
    docker_login(server, env, WRITER, PASSWORD)
    source, frozen = f"{server.host}/docker-local/src:v2-linux-amd64", f"{server.host}/docker-frozen/app:1.0"
    try:
        run("docker", "pull", source, env=env)
        run("docker", "tag", source, frozen, env=env)
        with pytest.raises(AssertionError, match=IMMUTABLE):
            run("docker", "push", frozen, env=env)
    finally:
        subprocess.run(["docker", "rmi", "-f", source, frozen], capture_output=True)
    _, digest, _ = registry_manifest(server, "docker-frozen/app", "1.0")
    assert digest == versions.indexes["v1"]
    _, child, _ = registry_manifest(server, "docker-frozen/app", "1.0-linux-arm64")
    assert child == versions.children["v1"]["arm64"]
