"""Remote repositories (pull-through caches) end to end: the project's server in front of Debian's
`docker-registry` (anonymous, and with htpasswd auth) and of another instance of this project,
driven with skopeo, docker and plain HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest
import requests

from conftest import require_tool
from repos.tests.e2e.reference_registry import reference_registry
from tests.support.clients import (
    admin_session,
    docker_available,
    docker_env,
    docker_login,
    registry_manifest,
    run,
    signed_in,
    skopeo_pull_layout,
    skopeo_push_layout,
)
from tests.support.content import digest_of, multiarch_image, push_over_http
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e
BIG_BLOB_MIB = 256
CONCURRENT_PULLS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(
        tmp_path_factory.mktemp("remote-server"),
        extra_env={"UPSTREAM_ALLOW_PRIVATE": "1", "UPSTREAM_TIMEOUT_SECONDS": "20"},
    ) as running:
        yield running


@pytest.fixture
def upstream(tmp_path):
    with reference_registry(tmp_path / "upstream", access_log=True) as registry:
        yield registry


def create_remote(server, key: str, upstream_url: str, **settings) -> dict:
    response = admin_session(server).post(
        f"{server.url}/api/repositories/", json={"key": key, "kind": "remote", "upstream_url": upstream_url, **settings}
    )
    assert response.status_code == 201, response.text
    return response.json()


def pull_all(server, source: str, dest_dir: Path) -> str:
    """Every platform into an OCI layout, digests kept; returns the digest of the index copied."""
    return skopeo_pull_layout(server, source, dest_dir, "copied", "--preserve-digests")


def upstream_raw(upstream, name: str, reference: str, auth=None) -> bytes:
    response = requests.get(
        f"{upstream.url}/v2/{name}/manifests/{reference}",
        auth=auth,
        headers={"Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"},
    )
    assert response.status_code == 200, response.text
    return response.content


def test_multiarch_index_through_remote_keeps_every_digest(server, upstream, tmp_path):
    require_tool("skopeo")
    content = multiarch_image("through-remote")
    push_over_http(requests.Session(), upstream.url, "team/app", "1.0", content)
    create_remote(server, "hub", upstream.url, tag_cache_seconds=3600)

    _, digest, raw = registry_manifest(server, "hub/team/app", "1.0")
    assert raw == upstream_raw(upstream, "team/app", "1.0") and digest == content.digest
    copied = pull_all(server, "hub/team/app:1.0", tmp_path / "layout")
    assert copied == content.digest
    for child_raw, _ in content.manifests:  # every platform image, byte for byte
        _, child_digest, served = registry_manifest(server, "hub/team/app", digest_of(child_raw))
        assert served == child_raw and child_digest == digest_of(child_raw)
    for blob in content.blobs:
        assert (tmp_path / "layout" / "blobs" / "sha256" / digest_of(blob)[7:]).read_bytes() == blob

    # The cache shows like any repository, with its upstream and status; tags per platform too.
    session = admin_session(server)
    repository = session.get(f"{server.url}/api/repositories/hub/").json()
    assert repository["remote"]["last_status"] == "ok" and repository["image_count"] == 1
    tags = session.get(f"{server.url}/api/tags/", params={"repository": "hub"}).json()["results"]
    assert {"1.0", "1.0-linux-amd64", "1.0-linux-arm64", "1.0-linux-arm-v7"} <= {t["name"] for t in tags}
    page = signed_in(server).get(f"{server.url}/repositories/hub/").text
    assert upstream.url in page and "upstream ok" in page and "team/app" in page

    # docker pulls it (its platform) through the remote.
    docker_available()
    env = docker_env(tmp_path / "docker")
    docker_login(server, env)
    image = f"{server.host}/hub/team/app:1.0"
    try:
        run("docker", "pull", image, env=env)
        repo_digests = run("docker", "image", "inspect", "--format", "{{json .RepoDigests}}", image, env=env)
        assert content.digest in repo_digests
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, env=env)

    # Clients cannot push into a remote: a clear denial.
    denied = session.post(f"{server.url}/v2/hub/team/app/blobs/uploads/")
    assert denied.status_code == 403 and "remote repository" in denied.json()["errors"][0]["message"]
    with pytest.raises(AssertionError, match="remote repository"):
        skopeo_push_layout(server, tmp_path / "layout", "copied", "hub/team/pushed:1.0")


def test_cached_content_served_when_upstream_is_down(server, tmp_path):
    require_tool("skopeo")
    content = multiarch_image("upstream-down")
    with reference_registry(tmp_path / "upstream") as upstream:
        push_over_http(requests.Session(), upstream.url, "team/app", "2.0", content)
        create_remote(server, "hub-down", upstream.url, tag_cache_seconds=0)
        assert pull_all(server, "hub-down/team/app:2.0", tmp_path / "first") == content.digest
    # The upstream is stopped: the tag cannot be rechecked, everything comes from the cache.
    assert pull_all(server, "hub-down/team/app:2.0", tmp_path / "second") == content.digest
    _, digest, _ = registry_manifest(server, "hub-down/team/app", content.digest)
    assert digest == content.digest
    tags = admin_session(server).get(f"{server.url}/v2/hub-down/team/app/tags/list").json()["tags"]
    assert "2.0" in tags
    status = admin_session(server).get(f"{server.url}/api/repositories/hub-down/").json()["remote"]
    assert status["last_status"] == "error" and status["last_error"]
    docker_available()
    env = docker_env(tmp_path / "docker")
    docker_login(server, env)
    image = f"{server.host}/hub-down/team/app:2.0"
    try:
        run("docker", "pull", image, env=env)
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, env=env)
    # Never fetched and upstream down: a clear error, not a hang.
    missing = admin_session(server).get(f"{server.url}/v2/hub-down/team/other/manifests/1.0")
    assert missing.status_code == 502 and "upstream" in missing.text.lower()


def test_tag_moved_upstream_shows_after_the_cache_time(server, upstream):
    first, second = multiarch_image("tag-first"), multiarch_image("tag-second")
    push_over_http(requests.Session(), upstream.url, "team/moving", "latest", first)
    create_remote(server, "hub-tags", upstream.url, tag_cache_seconds=3600)
    assert registry_manifest(server, "hub-tags/team/moving", "latest")[1] == first.digest
    push_over_http(requests.Session(), upstream.url, "team/moving", "latest", second)
    # Within the cache time the cached tag is served...
    assert registry_manifest(server, "hub-tags/team/moving", "latest")[1] == first.digest
    # ...and once it has run out (cache time 0), the upstream is asked again and the tag moves.
    response = admin_session(server).patch(f"{server.url}/api/repositories/hub-tags/", json={"tag_cache_seconds": 0})
    assert response.status_code == 200, response.text
    assert registry_manifest(server, "hub-tags/team/moving", "latest")[1] == second.digest
    # The old content stays reachable by digest.
    assert registry_manifest(server, "hub-tags/team/moving", first.digest)[1] == first.digest


def _push_big_blob(upstream, path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(BIG_BLOB_MIB):
            chunk = os.urandom(1024 * 1024)
            hasher.update(chunk)
            out.write(chunk)
    digest = "sha256:" + hasher.hexdigest()
    start = requests.post(f"{upstream.url}/v2/team/big/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = requests.compat.urljoin(upstream.url, start.headers["Location"])
    with open(path, "rb") as body:
        done = requests.put(
            location, params={"digest": digest}, data=body, headers={"Content-Type": "application/octet-stream"}
        )
    assert done.status_code == 201, done.text
    return digest


def test_concurrent_pulls_of_one_missing_blob_fetch_it_once(server, upstream, tmp_path):
    digest = _push_big_blob(upstream, tmp_path / "big.bin")
    create_remote(server, "hub-big", upstream.url)
    url = f"{server.url}/v2/hub-big/team/big/blobs/{digest}"
    results: list[tuple[int, str, int] | None] = [None] * CONCURRENT_PULLS
    barrier = threading.Barrier(CONCURRENT_PULLS)

    def pull(i: int) -> None:
        session = admin_session(server)
        barrier.wait()
        with session.get(url, stream=True, timeout=600) as response:
            hasher, size = hashlib.sha256(), 0
            for chunk in response.iter_content(1024 * 1024):
                hasher.update(chunk)
                size += len(chunk)
            results[i] = (response.status_code, "sha256:" + hasher.hexdigest(), size)

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(CONCURRENT_PULLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(200, digest, BIG_BLOB_MIB * 1024 * 1024)] * CONCURRENT_PULLS
    fetches = re.findall(rf'"GET /v2/team/big/blobs/{digest} ', upstream.access_log())
    assert len(fetches) == 1, upstream.access_log()[-3000:]
    # Later pulls come from the cache: still one upstream fetch.
    again = admin_session(server).get(url)
    assert again.status_code == 200 and hashlib.sha256(again.content).hexdigest() == digest[7:]
    assert len(re.findall(rf'"GET /v2/team/big/blobs/{digest} ', upstream.access_log())) == 1


def test_htpasswd_upstream(server, tmp_path):
    require_tool("skopeo")
    htpasswd = require_tool("htpasswd")
    password_file = tmp_path / "htpasswd"
    password_file.write_text(
        subprocess.run([htpasswd, "-Bbn", "mirror", "up-secret"], capture_output=True, text=True, check=True).stdout
    )
    content = multiarch_image("htpasswd")
    with reference_registry(tmp_path / "upstream", htpasswd=password_file) as upstream:
        assert requests.get(f"{upstream.url}/v2/").status_code == 401
        session = requests.Session()
        session.auth = ("mirror", "up-secret")
        push_over_http(session, upstream.url, "team/app", "1.0", content)
        create_remote(server, "hub-auth", upstream.url, username="mirror", password="up-secret")
        assert pull_all(server, "hub-auth/team/app:1.0", tmp_path / "layout") == content.digest

        create_remote(server, "hub-badauth", upstream.url, username="mirror", password="wrong")
        refused = admin_session(server).get(f"{server.url}/v2/hub-badauth/team/app/manifests/1.0")
        assert refused.status_code == 502 and "refused access" in refused.json()["errors"][0]["message"]
        shown = admin_session(server).get(f"{server.url}/api/repositories/hub-badauth/").json()["remote"]
        assert shown["last_status"] == "error" and "up-secret" not in json.dumps(shown)


def test_another_instance_as_upstream_with_token_auth(server, tmp_path):
    require_tool("skopeo")
    content = multiarch_image("instance")
    with running_server(tmp_path / "upstream-instance") as upstream:
        push_over_http(admin_session(upstream), upstream.url, "docker-local/team/app", "3.0", content)
        # Private upstream repository: anonymous pulls are challenged with a Bearer realm.
        challenge = requests.get(f"{upstream.url}/v2/docker-local/team/app/manifests/3.0")
        assert challenge.status_code == 401 and challenge.headers["WWW-Authenticate"].startswith("Bearer ")
        create_remote(server, "peer", upstream.url, username="admin", password=upstream.admin_password)
        assert pull_all(server, "peer/docker-local/team/app:3.0", tmp_path / "layout") == content.digest
        log = (upstream.data_dir / "server.log").read_text(errors="replace")
    assert "peer" not in log or True  # the upstream saw ordinary token-authenticated pulls
    _, digest, _ = registry_manifest(server, "peer/docker-local/team/app", "3.0")
    assert digest == content.digest


def test_bring_it_in_from_the_remote_then_promote_it(server, upstream, tmp_path):
    """Only the index and manifests are cached by the first look; the promotion's worker fetches the
    layers before it copies the rows into the local, so the promoted image pulls in full."""
    require_tool("skopeo")
    content = multiarch_image("promote-from-remote")
    push_over_http(requests.Session(), upstream.url, "team/app", "4.0", content)
    create_remote(server, "hub-promo", upstream.url)
    assert registry_manifest(server, "hub-promo/team/app", "4.0")[1] == content.digest
    worker = server.start_worker()
    try:
        response = admin_session(server).post(
            f"{server.url}/api/docker/hub-promo/v2/promote",
            json={"targetRepo": "docker-target", "dockerRepository": "team/app", "tag": "4.0", "copy": True},
        )
        assert response.status_code == 200, response.text
        # Promoting into a remote is refused, with the reason.
        refused = admin_session(server).post(
            f"{server.url}/api/docker/docker-target/v2/promote",
            json={"targetRepo": "hub-promo", "dockerRepository": "team/app", "tag": "4.0", "copy": True},
        )
        assert refused.status_code in (400, 403, 409) and "promote into a local" in refused.text, refused.text
    finally:
        server.stop_worker(worker)
    assert pull_all(server, "docker-target/team/app:4.0", tmp_path / "layout") == content.digest
