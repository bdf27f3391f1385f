"""A lying upstream (wrong manifest digest, wrong blob bytes, wrong blob size): the remote refuses what
it sent and stores nothing of it. The upstream is a small HTTP server made to lie; no registry does."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from repos.oci.digests import sha256_digest as sha
from repos.tests.e2e.test_remote import create_remote, server  # noqa: F401
from tests.support.clients import admin_session

pytestmark = pytest.mark.e2e


CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
LAYER = gzip.compress(b"honest bytes" * 1000, mtime=0)
OTHER = gzip.compress(b"forged bytes" * 1000, mtime=0)
SIZED = gzip.compress(b"declared with another size" * 1000, mtime=0)


def manifest(layer: bytes, layer_size: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(layer), "size": layer_size}
            ],
        }
    ).encode()


HONEST = manifest(LAYER, len(LAYER))
WRONG_SIZE = manifest(SIZED, len(SIZED) + 7)


class Liar(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        manifest_type = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        routes = {
            # A manifest whose Docker-Content-Digest is not the digest of its bytes.
            "/v2/wrong-digest/manifests/1.0": (HONEST, {**manifest_type, "Docker-Content-Digest": sha(b"other")}),
            "/v2/honest/manifests/1.0": (HONEST, {**manifest_type, "Docker-Content-Digest": sha(HONEST)}),
            "/v2/wrong-size/manifests/1.0": (WRONG_SIZE, manifest_type),
            f"/v2/honest/blobs/{sha(CONFIG)}": (CONFIG, {}),
            f"/v2/wrong-size/blobs/{sha(CONFIG)}": (CONFIG, {}),
            # Bytes that do not hash to the digest asked for.
            f"/v2/honest/blobs/{sha(LAYER)}": (OTHER[: len(LAYER)].ljust(len(LAYER), b"x"), {}),
            f"/v2/wrong-size/blobs/{sha(SIZED)}": (SIZED, {}),
            "/v2/": (b"{}", {}),
        }
        body, headers = routes.get(self.path, (b"not found", None))
        self._send(200 if headers is not None else 404, body, headers or {})


@pytest.fixture
def liar():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def stored(server, digest: str) -> bool:
    return (server.data_dir / "blobs" / "sha256" / digest[7:9] / digest[7:]).exists()


def test_lies_are_refused_and_nothing_is_stored(server, liar):  # noqa: F811
    create_remote(server, "liar", liar)
    session = admin_session(server)
    wrong_digest = session.get(f"{server.url}/v2/liar/wrong-digest/manifests/1.0")
    assert wrong_digest.status_code == 502 and "refused" in wrong_digest.json()["errors"][0]["message"]

    # An honest manifest is cached; its layer's bytes are forged: the download breaks, nothing is kept.
    honest = session.get(f"{server.url}/v2/liar/honest/manifests/1.0")
    assert honest.status_code == 200 and honest.content == HONEST
    with pytest.raises(requests.RequestException):  # the connection drops before the body is complete
        with admin_session(server).get(f"{server.url}/v2/liar/honest/blobs/{sha(LAYER)}", stream=True) as response:
            body = b"".join(response.iter_content(65536))
            assert sha(body) == sha(LAYER)  # never reached: the body is cut before its end
    assert not stored(server, sha(LAYER))
    with pytest.raises(requests.RequestException):  # asked again: fetched again, refused again
        with admin_session(server).get(f"{server.url}/v2/liar/honest/blobs/{sha(LAYER)}", stream=True) as again:
            b"".join(again.iter_content(65536))

    # A layer the manifest declares with one size and the upstream sends with another.
    assert session.get(f"{server.url}/v2/liar/wrong-size/manifests/1.0").status_code == 200
    wrong_size = session.get(f"{server.url}/v2/liar/wrong-size/blobs/{sha(SIZED)}")
    assert wrong_size.status_code == 502 and "declared" in wrong_size.json()["errors"][0]["message"]
    assert not stored(server, sha(SIZED))

    images = {
        i["name"] for i in session.get(f"{server.url}/api/images/", params={"repository": "liar"}).json()["results"]
    }
    assert images == {"honest", "wrong-size"}  # the manifest with the forged digest left no row
    status = session.get(f"{server.url}/api/repositories/liar/").json()["remote"]
    assert status["last_status"] == "error" and status["last_error"]
