"""A chunked upload interrupted by the server going down mid-chunk resumes after the restart, and
the blob is byte-identical. Also the docker-style PATCH (Transfer-Encoding: chunked) and HEAD = GET
against the real gunicorn server."""

import os
import threading

import pytest
import requests

from repos.oci.digests import sha256_digest
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024
NAME = "docker-local/restart"


def _session(server) -> requests.Session:
    session = requests.Session()
    session.auth = ("admin", server.admin_password)
    return session


def _offset(session, url) -> int:
    response = session.get(url)
    assert response.status_code == 204, response.text
    return int(response.headers["Range"].split("-")[1]) + 1


def test_interrupted_chunked_upload_resumes_after_restart(registry_server):
    server = registry_server
    session = _session(server)
    data = os.urandom(24 * MiB)
    digest = sha256_digest(data)
    start = session.post(f"{server.url}/v2/{NAME}/blobs/uploads/")
    assert start.status_code == 202
    upload = server.url + start.headers["Location"]
    first = session.patch(
        upload,
        data=data[: 8 * MiB],
        headers={"Content-Range": f"0-{8 * MiB - 1}", "Content-Type": "application/octet-stream"},
    )
    assert first.status_code == 202 and first.headers["Range"] == f"0-{8 * MiB - 1}"

    # The second chunk streams (Transfer-Encoding: chunked) and stalls half-way; the server goes down.
    half_sent, give_up = threading.Event(), threading.Event()
    outcome = {}

    def body():
        for position in range(8 * MiB, 14 * MiB, MiB):
            yield data[position : position + MiB]
        half_sent.set()
        give_up.wait(60)
        yield data[14 * MiB : 15 * MiB]  # the connection is gone: this write fails

    def send():
        try:
            outcome["response"] = _session(server).patch(
                upload, data=body(), headers={"Content-Type": "application/octet-stream"}
            )
        except requests.RequestException as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    assert half_sent.wait(60)
    wait_until(lambda: _offset(session, upload) > 9 * MiB, what="part of the stalled chunk on disk", timeout=30)
    server.stop(kill=True)
    give_up.set()
    sender.join(60)
    assert "error" in outcome or outcome["response"].status_code >= 500
    server.start()

    offset = _offset(session, upload)
    assert 9 * MiB < offset <= 14 * MiB
    rest = session.patch(
        upload,
        data=data[offset:],
        headers={"Content-Range": f"{offset}-{len(data) - 1}", "Content-Type": "application/octet-stream"},
    )
    assert rest.status_code == 202, rest.text
    done = session.put(f"{upload}?digest={digest}")
    assert done.status_code == 201, done.text
    pulled = session.get(f"{server.url}/v2/{NAME}/blobs/{digest}")
    assert pulled.content == data


def test_docker_style_streamed_patch(registry_server):
    session = _session(registry_server)
    data = os.urandom(5 * MiB + 3)
    digest = sha256_digest(data)
    upload = registry_server.url + session.post(f"{registry_server.url}/v2/{NAME}/blobs/uploads/").headers["Location"]
    pieces = (data[i : i + 64 * 1024] for i in range(0, len(data), 64 * 1024))
    streamed = session.patch(upload, data=pieces, headers={"Content-Type": "application/octet-stream"})
    assert streamed.request.headers.get("Transfer-Encoding") == "chunked"
    assert streamed.status_code == 202 and streamed.headers["Range"] == f"0-{len(data) - 1}"
    done = session.put(f"{registry_server.url}{streamed.headers['Location']}?digest={digest}")
    assert done.status_code == 201, done.text

    blob_url = f"{registry_server.url}/v2/{NAME}/blobs/{digest}"
    get, head = session.get(blob_url), session.head(blob_url)
    assert get.content == data and head.content == b""
    for header in ("Content-Length", "Content-Type", "Docker-Content-Digest", "ETag", "Accept-Ranges"):
        assert head.headers.get(header) == get.headers.get(header), header
    assert "Content-Disposition" not in get.headers
    ranged = session.get(blob_url, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == data[100:200]
