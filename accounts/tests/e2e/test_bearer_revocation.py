"""Every gunicorn worker remembers the bearer tokens it verified; a revoked API token must still be
refused at once by all of them, without any message between the processes."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from repos.oci.digests import sha256_digest
from tests.support.clients import admin_session
from tests.support.servers import running_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
OCI = "application/vnd.oci.image.manifest.v1+json"
PASSWORD = "writer-password-for-revocation"


def _push_small_image(url: str, session: requests.Session, name: str) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"revocation layer"
    descriptors = []
    for blob, media_type in (
        (config, "application/vnd.oci.image.config.v1+json"),
        (layer, "application/vnd.oci.image.layer.v1.tar+gzip"),
    ):
        digest = sha256_digest(blob)
        done = session.post(
            f"{url}/v2/{name}/blobs/uploads/?digest={digest}",
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(blob)})
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI, "config": descriptors[0], "layers": descriptors[1:]}
    ).encode()
    assert (
        session.put(f"{url}/v2/{name}/manifests/1.0", data=manifest, headers={"Content-Type": OCI}).status_code == 201
    )


def _served_by(log_path, since: int) -> dict[str, set[str]]:
    """status -> worker pids, from the access log lines written after byte `since`."""
    found: dict[str, set[str]] = {}
    with open(log_path) as log:
        log.seek(since)
        for line in log:
            match = re.match(r"pid=<?(\d+)>?\|status=(\d+)\|path=/v2/docker-local/app/manifests/1.0", line)
            if match:
                found.setdefault(match.group(2), set()).add(match.group(1))
    return found


def test_a_revoked_api_token_is_refused_by_every_worker_at_once(tmp_path):
    access_log = tmp_path / "access.log"
    extra = {"ACCESS_LOG": str(access_log), "GUNICORN_CMD_ARGS": "--access-logformat=pid=%(p)s|status=%(s)s|path=%(U)s"}
    with running_server(tmp_path, extra_env=extra, web_workers=2) as server:
        admin = admin_session(server)
        _push_small_image(server.url, admin, "docker-local/app")
        assert admin.post(f"{server.url}/api/users/", json={"username": "ci", "password": PASSWORD}).status_code == 201
        assert (
            admin.post(
                f"{server.url}/api/repositories/docker-local/grants/", json={"user": "ci", "permission": "write"}
            ).status_code
            == 201
        )
        created = requests.post(
            f"{server.url}/api/tokens/", auth=("ci", PASSWORD), json={"name": "ci", "permissions": ["read", "write"]}
        )
        assert created.status_code == 201, created.text
        token_id, secret = created.json()["id"], created.json()["token"]
        jwt = requests.get(
            f"{server.url}/v2/token",
            auth=("token", secret),
            params={"service": "multiarch-registry", "scope": "repository:docker-local/app:pull,push"},
        ).json()["token"]
        headers = {"Authorization": f"Bearer {jwt}", "Accept": OCI}
        manifest = f"{server.url}/v2/docker-local/app/manifests/1.0"

        # Warm both workers: a new connection per request lands on either.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for _ in range(20):
                assert requests.get(manifest, headers=headers).status_code == 200
            if len(_served_by(access_log, 0).get("200", set())) >= 2:
                break
        assert len(_served_by(access_log, 0).get("200", set())) == 2, "both workers must have used the token"

        mark = access_log.stat().st_size
        revoked = requests.delete(f"{server.url}/api/tokens/{token_id}/", auth=("ci", PASSWORD))
        assert revoked.status_code == 204
        answers = [requests.get(manifest, headers=headers) for _ in range(40)]
        assert {a.status_code for a in answers} == {401}
        assert all('error="invalid_token"' in a.headers["WWW-Authenticate"] for a in answers)
        # gunicorn writes its access log a moment after answering.
        served = wait_until(
            lambda: (by := _served_by(access_log, mark)) and len(by.get("401", set())) == 2 and by,
            what="both workers' 401 lines in the access log",
        )
        assert set(served) == {"401"} and len(served["401"]) == 2
