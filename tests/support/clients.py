"""Real clients in tests: the tools (skopeo, buildah, podman, docker) and HTTP sessions against a running server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import requests

from conftest import require_tool
from repos.oci.digests import sha256_digest


def run(
    *args: str, cwd: Path | None = None, timeout: int = 300, env: dict | None = None, input: str | None = None
) -> str:
    require_tool(args[0])
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


def docker_available() -> None:
    require_tool("docker")
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if probe.returncode != 0:
        import pytest

        from conftest import IN_CI

        message = f"no Docker engine answers: {probe.stderr.strip()[:200]}"
        pytest.fail(message) if IN_CI else pytest.skip(message)


def admin_session(server) -> requests.Session:
    """Requests as the seeded admin (Basic credentials; repositories are private by default)."""
    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    return session


def docker_env(config_dir: Path) -> dict:
    """Environment for a docker CLI with its own config (credentials), leaving ~/.docker alone."""
    config_dir.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "DOCKER_CONFIG": str(config_dir)}


def docker_login(server, env: dict, username: str = "admin", password: str | None = None) -> str:
    return run(
        "docker",
        "login",
        server.host,
        "--username",
        username,
        "--password-stdin",
        env=env,
        input=password if password is not None else server.admin_password,
    )


def write_context(directory: Path, *, content: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hello.txt").write_text(content)
    (directory / "Dockerfile").write_text('FROM scratch\nCOPY hello.txt /\nCMD ["/hello"]\n')
    return directory


def registry_manifest(server, name: str, reference: str, *, session=None) -> tuple[dict, str, bytes]:
    accept = ", ".join(
        [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ]
    )
    session = session or admin_session(server)
    response = session.get(f"{server.url}/v2/{name}/manifests/{reference}", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    raw = response.content
    digest = sha256_digest(raw)
    assert response.headers["Docker-Content-Digest"] == digest
    return json.loads(raw), digest, raw


def registry_tags(server, name: str, *, session=None) -> list[str]:
    response = (session or admin_session(server)).get(f"{server.url}/v2/{name}/tags/list")
    assert response.status_code == 200, response.text
    return response.json()["tags"]


def signed_in(server) -> requests.Session:
    """A browser-like session signed in as the admin through the login form (dashboard pages use sessions)."""
    session = requests.Session()
    form = session.get(f"{server.url}/accounts/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert found, "the login page has a CSRF token"
    token = found.group(1)
    done = session.post(
        f"{server.url}/accounts/login/",
        data={"username": "admin", "password": server.admin_password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{server.url}/accounts/login/"},
    )
    assert done.status_code == 200 and "sessionid" in session.cookies, done.text[-500:]
    return session


def admin_creds(server) -> str:
    return f"admin:{server.admin_password}"


def skopeo_copy(
    source: str,
    destination: str,
    *options: str,
    src_creds: str | None = None,
    dest_creds: str | None = None,
    timeout: int = 300,
) -> str:
    """`skopeo copy [options] source destination` (docker://, oci:, dir: references) with plain HTTP to the
    registries; `src_creds` and `dest_creds` as `user:secret` (none given: the client's own, anonymous here)."""
    credentials = [
        *(["--src-creds", src_creds] if src_creds else []),
        *(["--dest-creds", dest_creds] if dest_creds else []),
    ]
    return run(
        "skopeo",
        "copy",
        *options,
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        *credentials,
        source,
        destination,
        timeout=timeout,
    )


def skopeo_push_layout(server, layout: Path, tag: str, destination: str, *, timeout: int = 300) -> None:
    """`skopeo copy --all` of the OCI layout's `tag` to `destination` (repository/image:tag) as the admin."""
    skopeo_copy(
        f"oci:{layout}:{tag}",
        f"docker://{server.host}/{destination}",
        "--all",
        dest_creds=admin_creds(server),
        timeout=timeout,
    )


def skopeo_pull_layout(server, source: str, layout: Path, tag: str, *options: str) -> str:
    """`skopeo copy --all` of `source` (repository/image:tag) into the OCI layout as the admin; returns the
    digest of what the layout's `tag` names (the index)."""
    skopeo_copy(
        f"docker://{server.host}/{source}", f"oci:{layout}:{tag}", "--all", *options, src_creds=admin_creds(server)
    )
    described = json.loads((layout / "index.json").read_text())["manifests"]
    return next(
        m["digest"] for m in described if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
    )


def skopeo_raw(reference: str, creds: str | None = None) -> bytes:
    """The manifest's bytes as the registry serves them (`skopeo inspect --raw` of a docker:// reference)."""
    require_tool("skopeo")
    result = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            *(["--creds", creds] if creds else ["--no-creds"]),
            reference,
        ],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def container_storage_args(storage: Path) -> list[str]:
    """buildah and podman with their own storage under `storage` (vfs: no overlay mounts needed)."""
    return ["--root", str(storage / "root"), "--runroot", str(short_runroot(storage)), "--storage-driver", "vfs"]


def short_runroot(storage: Path) -> Path:
    # podman refuses a runroot longer than 50 characters: a link in /tmp points at it.
    link = storage / "runroot"
    if not link.exists():
        storage.mkdir(parents=True, exist_ok=True)
        link.symlink_to(tempfile.mkdtemp(prefix="tm-run-", dir="/tmp"))
    return link.resolve()


def buildah(storage: Path, *args: str, timeout: int = 600) -> str:
    return run("buildah", *container_storage_args(storage), *args, timeout=timeout)


def buildah_build_list(
    storage: Path, context: Path, list_name: str, *options: str, platforms: str = "linux/amd64,linux/arm64"
) -> str:
    """`buildah build` of the context's Dockerfile for each of `platforms` into the manifest list `list_name`."""
    return buildah(
        storage,
        "build",
        "--isolation",
        "chroot",
        "--platform",
        platforms,
        *options,
        "--manifest",
        list_name,
        "-f",
        str(context / "Dockerfile"),
        str(context),
    )


def podman(storage: Path, *args: str, timeout: int = 600) -> str:
    return run("podman", *container_storage_args(storage), *args, timeout=timeout)


def push_list(storage: Path, list_name: str, destination: str, creds: str, *, tool=buildah) -> str:
    """`buildah manifest push --all` (podman's with `tool=podman`) of the list to `destination` (docker://...)."""
    return tool(storage, "manifest", "push", "--all", "--tls-verify=false", "--creds", creds, list_name, destination)
