"""Real clients against the real server: docker login/push/pull, a reader refused, skopeo with an
API token, revoked and expired tokens refused, oras (Python) through the token flow."""

from __future__ import annotations

import subprocess
import uuid

import oras.client
import pytest
import requests

from tests.support.clients import (
    admin_session,
    docker_available,
    docker_env,
    docker_login,
    run,
    skopeo_copy,
    write_context,
)
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e
PASSWORDS = {"alice": f"alice-{uuid.uuid4().hex}", "bob": f"bob-{uuid.uuid4().hex}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server where alice may write docker-local and bob may only read it, set up through the REST API."""
    with running_server(tmp_path_factory.mktemp("auth-e2e")) as running:
        admin = admin_session(running)
        for username, permission in (("alice", "write"), ("bob", "read")):
            created = admin.post(
                f"{running.url}/api/users/", json={"username": username, "password": PASSWORDS[username]}
            )
            assert created.status_code == 201, created.text
            granted = admin.post(
                f"{running.url}/api/repositories/docker-local/grants/",
                json={"user": username, "permission": permission},
            )
            assert granted.status_code == 201, granted.text
        yield running


@pytest.fixture(scope="module")
def pushed(server, tmp_path_factory):
    """An image alice built and pushed after `docker login`: (reference, docker env of alice)."""
    docker_available()
    tmp = tmp_path_factory.mktemp("alice")
    env = docker_env(tmp / "docker-config")
    assert "Login Succeeded" in docker_login(server, env, "alice", PASSWORDS["alice"])
    reference = f"{server.host}/docker-local/auth-e2e:1.0"
    run("docker", "build", "-t", reference, str(write_context(tmp / "ctx", content=f"{uuid.uuid4()}\n")), env=env)
    run("docker", "push", reference, env=env)
    yield reference, env
    subprocess.run(["docker", "rmi", "-f", reference], capture_output=True)


def _token(server, username: str, **body) -> tuple[int, str]:
    response = requests.post(
        f"{server.url}/api/tokens/", auth=(username, PASSWORDS[username]), json={"name": "ci", **body}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["token"]


def test_docker_login_push_then_pull(server, pushed):
    reference, env = pushed
    run("docker", "rmi", "-f", reference, env=env)
    assert "Downloaded newer image" in run("docker", "pull", reference, env=env)


def test_docker_login_with_a_wrong_password_fails(server, tmp_path):
    docker_available()
    with pytest.raises(AssertionError, match="(?i)unauthorized|invalid credentials"):
        docker_login(server, docker_env(tmp_path / "cfg"), "alice", "not-her-password")
    with pytest.raises(AssertionError, match="(?i)unauthorized|invalid credentials"):
        docker_login(server, docker_env(tmp_path / "cfg2"), "nobody", "not-a-password")


def test_a_reader_pulls_but_cannot_push(server, pushed, tmp_path):
    reference, _ = pushed
    env = docker_env(tmp_path / "bob")
    docker_login(server, env, "bob", PASSWORDS["bob"])
    run("docker", "pull", reference, env=env)
    theirs = f"{server.host}/docker-local/auth-e2e:bob"
    run("docker", "tag", reference, theirs, env=env)
    try:
        with pytest.raises(AssertionError, match="denied"):
            run("docker", "push", theirs, env=env)
    finally:
        subprocess.run(["docker", "rmi", "-f", theirs], capture_output=True)


def test_anonymous_sees_nothing_private(server, pushed):
    assert requests.get(f"{server.url}/v2/_catalog").json() == {"repositories": []}
    assert requests.get(f"{server.url}/v2/docker-local/auth-e2e/tags/list").status_code == 401
    # Through the token flow an anonymous client is told what it would hear for a name that does not exist.
    for name in ("docker-local/auth-e2e", "docker-local/never-pushed", "no-such-repository/app"):
        with pytest.raises(AssertionError, match="name unknown: repository name not known to registry"):
            run("skopeo", "inspect", "--tls-verify=false", "--no-creds", f"docker://{server.host}/{name}:1.0")


def test_skopeo_with_an_api_token_then_revoked(server, pushed):
    reference, _ = pushed
    token_id, secret = _token(server, "alice", permissions=["read", "write"], repositories=["docker-local"])
    copy = f"docker://{server.host}/docker-local/auth-e2e-copy:1.0"
    skopeo_copy(f"docker://{reference}", copy, src_creds=f"alice:{secret}", dest_creds=f"token:{secret}")
    assert "auth-e2e-copy" in run("skopeo", "inspect", "--tls-verify=false", "--creds", f"alice:{secret}", copy)

    revoked = requests.delete(f"{server.url}/api/tokens/{token_id}/", auth=("alice", PASSWORDS["alice"]))
    assert revoked.status_code == 204
    with pytest.raises(AssertionError, match="(?i)unauthorized|invalid credentials"):
        run("skopeo", "inspect", "--tls-verify=false", "--creds", f"alice:{secret}", copy)


def test_an_expired_token_is_refused(server, pushed):
    token_id, secret = _token(server, "alice", permissions=["read"])
    assert requests.get(f"{server.url}/v2/docker-local/auth-e2e/tags/list", auth=("alice", secret)).status_code == 200
    server.manage(
        "shell",
        "-c",
        "from django.utils import timezone; from accounts.models import ApiToken; "
        f"ApiToken.objects.filter(pk={token_id}).update(expires_at=timezone.now())",
    )
    with pytest.raises(AssertionError, match="(?i)unauthorized|invalid credentials"):
        run("skopeo", "inspect", "--tls-verify=false", "--creds", f"alice:{secret}", f"docker://{pushed[0]}")


def test_a_read_token_cannot_push_even_for_a_writer(server, pushed):
    _, secret = _token(server, "alice", permissions=["read"], repositories=["docker-local"])
    target = f"docker://{server.host}/docker-local/auth-e2e-ro:1.0"
    with pytest.raises(AssertionError, match="denied"):
        skopeo_copy(f"docker://{pushed[0]}", target, src_creds=f"alice:{secret}", dest_creds=f"alice:{secret}")


def test_oras_pushes_and_pulls_through_the_token_flow(server, tmp_path, monkeypatch):
    _, secret = _token(server, "alice", permissions=["read", "write"], repositories=["docker-local"])
    artifact = tmp_path / "notes.txt"
    artifact.write_text("release notes\n")
    monkeypatch.chdir(tmp_path)  # oras-py only uploads files below the working directory
    client = oras.client.OrasClient(hostname=server.host, insecure=True)
    client.auth.set_basic_auth("alice", secret)
    target = f"{server.host}/docker-local/oras-notes:v1"
    assert client.push(target=target, files=["notes.txt"]).status_code == 201
    pulled = client.pull(target=target, outdir=str(tmp_path / "out"))
    assert (tmp_path / "out" / "notes.txt").read_text() == "release notes\n" and pulled

    reader = oras.client.OrasClient(hostname=server.host, insecure=True)
    reader.auth.set_basic_auth("bob", PASSWORDS["bob"])
    with pytest.raises(ValueError, match="Forbidden"):
        reader.push(target=f"{server.host}/docker-local/oras-notes:bob", files=["notes.txt"])
    assert admin_session(server).get(f"{server.url}/v2/docker-local/oras-notes/tags/list").json()["tags"] == ["v1"]
