"""One real server (gunicorn + a Celery worker on Redis) and one Git server for the build e2e tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from builds.tests.e2e.helpers import GitServer, start_git_server
from conftest import require_tool
from tests.support.clients import docker_available
from tests.support.servers import running_server

DEV_PASSWORD = "dev-password-for-builds"


@dataclass
class World:
    server: object
    git: GitServer
    api: requests.Session  # the developer "dev", write on docker-local only


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    docker_available()
    require_tool("buildah")
    root = tmp_path_factory.mktemp("builds-e2e")
    git_server = start_git_server(root / "git")
    env = {
        "BUILD_GIT_ALLOWED_HOSTS": "127.0.0.1",
        "BUILD_NETWORK": "none",  # this Docker engine has no bridge network; RUN steps need none
        "BUILD_HEARTBEAT_SECONDS": "1",
        "BUILD_STALE_SECONDS": "8",
        "BUILD_RECONCILE_SECONDS": "2",
        "BUILD_CONTEXT_MAX_BYTES": str(16 * 1024 * 1024),
    }
    try:
        with running_server(root, redis=True, extra_env=env) as server:
            server.extra["worker"] = server.start_worker()
            admin = requests.Session()
            admin.auth = ("admin", server.admin_password)
            created = admin.post(f"{server.url}/api/users/", json={"username": "dev", "password": DEV_PASSWORD})
            assert created.status_code == 201, created.text
            granted = admin.post(
                f"{server.url}/api/repositories/docker-local/grants/", json={"user": "dev", "permission": "write"}
            )
            assert granted.status_code == 201, granted.text
            api = requests.Session()
            api.auth = ("dev", DEV_PASSWORD)
            yield World(server=server, git=git_server, api=api)
    finally:
        git_server.stop()
