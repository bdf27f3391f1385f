"""Virtual repositories end to end: one name over [docker-local, a remote]; pulls resolve through
the members in order, tags merge, builds use the virtual in FROM and pushes land in the default
deployment local."""

from __future__ import annotations

import subprocess

import pytest
import requests

from repos.tests.e2e.reference_registry import reference_registry
from repos.tests.e2e.test_remote import create_remote, pull_all, server  # noqa: F401
from tests.support.clients import (
    admin_session,
    docker_available,
    docker_env,
    docker_login,
    registry_manifest,
    registry_tags,
    run,
)
from tests.support.content import multiarch_image, push_over_http

pytestmark = pytest.mark.e2e


def create_virtual(server, key: str, members: list[str], default_deployment: str | None) -> None:
    response = admin_session(server).post(
        f"{server.url}/api/repositories/",
        json={"key": key, "kind": "virtual", "members": members, "default_deployment": default_deployment},
    )
    assert response.status_code == 201, response.text


def test_virtual_over_a_local_and_a_remote(server, tmp_path):  # noqa: F811
    hub_only, hub_app, local_only, local_app = (
        multiarch_image(label) for label in ("base", "hub-app", "local", "local-app")
    )
    with reference_registry(tmp_path / "upstream") as upstream:
        push_over_http(requests.Session(), upstream.url, "team/base", "1.0", hub_only)
        push_over_http(requests.Session(), upstream.url, "team/app", "1.0", hub_app)
        push_over_http(requests.Session(), upstream.url, "team/app", "hub-only", hub_app)
        create_remote(server, "hub-v", upstream.url)
        push_over_http(admin_session(server), server.url, "docker-local/team/local-only", "1.0", local_only)
        create_virtual(server, "docker-virtual", ["docker-local", "hub-v"], "docker-local")

        # Pulls from both members through the one name.
        assert pull_all(server, "docker-virtual/team/local-only:1.0", tmp_path / "a") == local_only.digest
        assert pull_all(server, "docker-virtual/team/base:1.0", tmp_path / "b") == hub_only.digest
        assert registry_manifest(server, "docker-virtual/team/app", "1.0")[1] == hub_app.digest
        # First hit wins: once docker-local has team/app:1.0, the virtual serves that one.
        push_over_http(admin_session(server), server.url, "docker-local/team/app", "1.0", local_app)
        assert registry_manifest(server, "docker-virtual/team/app", "1.0")[1] == local_app.digest
        assert registry_manifest(server, "docker-virtual/team/app", "hub-only")[1] == hub_app.digest
        # tags/list merges the members.
        assert {"1.0", "hub-only"} <= set(registry_tags(server, "docker-virtual/team/app"))

        # docker: a build FROM the virtual (through the remote), pushed into the virtual.
        docker_available()
        env = docker_env(tmp_path / "docker")
        docker_login(server, env)
        context = tmp_path / "context"
        context.mkdir()
        (context / "extra.txt").write_text("built on the virtual\n")
        (context / "Dockerfile").write_text(f"FROM {server.host}/docker-virtual/team/base:1.0\nCOPY extra.txt /\n")
        image = f"{server.host}/docker-virtual/team/built:1.0"
        try:
            run("docker", "build", "--network=none", "-t", image, str(context), env=env, timeout=600)
            run("docker", "push", image, env=env)
        finally:
            subprocess.run(
                ["docker", "rmi", "-f", image, f"{server.host}/docker-virtual/team/base:1.0"],
                capture_output=True,
                env=env,
            )
    # The push landed in the default deployment local, and pulls back through the virtual.
    assert registry_tags(server, "docker-local/team/built") == ["1.0"]
    local_digest = registry_manifest(server, "docker-local/team/built", "1.0")[1]
    assert registry_manifest(server, "docker-virtual/team/built", "1.0")[1] == local_digest
    assert admin_session(server).get(f"{server.url}/v2/hub-v/team/built/tags/list").status_code != 200


def test_push_into_a_virtual_without_default_deployment_is_refused(server):  # noqa: F811
    create_virtual(server, "virtual-ro", ["docker-local"], None)
    refused = admin_session(server).post(f"{server.url}/v2/virtual-ro/team/app/blobs/uploads/")
    assert refused.status_code == 403
    assert "no default deployment" in refused.json()["errors"][0]["message"]
