"""kill -9 of the server at arbitrary points during pushes leaves no dangling manifest, tag or blob row."""

import random
import threading
import time

import pytest
import requests

from repos.oci import media_types
from repos.oci.digests import sha256_digest as _digest
from tests.support.content import image_config, image_manifest, index
from tests.support.servers import running_server
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
OCI_MANIFEST = media_types.OCI_MANIFEST
OCI_INDEX = media_types.OCI_INDEX


class Pusher(threading.Thread):
    """Pushes two-platform images in a loop until stopped, swallowing connection errors."""

    def __init__(self, url: str, auth):
        super().__init__(daemon=True)
        self.url, self.session, self.stop_event, self.completed = url, requests.Session(), threading.Event(), 0
        self.session.auth = auth

    def run(self):
        round_no = 0
        while not self.stop_event.is_set():
            round_no += 1
            try:
                self._push_index(f"r{round_no}-{random.randrange(1 << 30)}")
                self.completed += 1
            except requests.RequestException:
                time.sleep(0.05)  # the server is down (killed): try again shortly

    def _blob(self, name: str, data: bytes) -> None:
        start = self.session.post(f"{self.url}/v2/{name}/blobs/uploads/")
        location = self.url + start.headers["Location"]
        chunks = (data[i : i + 65536] for i in range(0, len(data), 65536))
        patched = self.session.patch(location, data=chunks)
        self.session.put(f"{self.url}{patched.headers['Location']}?digest={_digest(data)}").raise_for_status()

    def _push_index(self, tag: str):
        name = "docker-local/crashy"
        children = []
        for arch in ("amd64", "arm64"):
            config = image_config(architecture=arch, history=[{"created_by": f"crash push {tag}"}])
            layer = (tag + arch).encode() * 40000  # large enough to be cut off in the middle of its upload
            self._blob(name, config)
            self._blob(name, layer)
            manifest = image_manifest(config=config, layers=[layer], oci=True)
            self.session.put(
                f"{self.url}/v2/{name}/manifests/{_digest(manifest)}",
                data=manifest,
                headers={"Content-Type": OCI_MANIFEST},
            ).raise_for_status()
            children.append((manifest, {"os": "linux", "architecture": arch}))
        self.session.put(
            f"{self.url}/v2/{name}/manifests/{tag}",
            data=index(children=children, oci=True),
            headers={"Content-Type": OCI_INDEX},
        ).raise_for_status()


def test_kill_9_during_pushes_leaves_a_consistent_registry(tmp_path):
    with running_server(tmp_path) as server:
        auth = ("admin", server.admin_password)
        for _ in range(5):
            pusher = Pusher(server.url, auth)
            pusher.start()
            # Kill at a random point of a push, but only once this server has completed one, so
            # a slow (loaded) machine still leaves tags to check afterwards.
            wait_until(lambda: pusher.completed, what="a completed push", timeout=120)
            time.sleep(random.uniform(0.0, 1.0))
            server.stop(kill=True)
            pusher.stop_event.set()
            pusher.join(timeout=30)
            output = server.manage("registry_check", "--rehash")
            assert "consistent" in output, output
            server.start()
        # After the crashes, every tag still pulls completely.
        session = requests.Session()
        session.auth = auth
        tags = session.get(f"{server.url}/v2/docker-local/crashy/tags/list").json()["tags"]
        assert tags, "no push completed between crashes"
        accept = {"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}"}
        for tag in tags:
            manifest = session.get(f"{server.url}/v2/docker-local/crashy/manifests/{tag}", headers=accept)
            assert manifest.status_code == 200
            body = manifest.json()
            for child in body.get("manifests", []):
                assert (
                    session.get(
                        f"{server.url}/v2/docker-local/crashy/manifests/{child['digest']}", headers=accept
                    ).status_code
                    == 200
                )
            for layer in body.get("layers", []):
                blob = session.get(f"{server.url}/v2/docker-local/crashy/blobs/{layer['digest']}")
                assert _digest(blob.content) == layer["digest"]
