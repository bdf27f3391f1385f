"""Parallel pushes from many clients: no lost or corrupt blob, one final tag, no server error.

Run on SQLite explicitly (WAL + immediate transactions must keep concurrent writers from failing
with "database is locked") and on the database CI configures.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from repos.oci.digests import sha256_digest
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _push_blob_chunked(session, url: str, name: str, data: bytes) -> int:
    start = session.post(f"{url}/v2/{name}/blobs/uploads/")
    if start.status_code != 202:
        return start.status_code
    location = start.headers["Location"]
    location = location if location.startswith("http") else url + location
    patch = session.patch(location, data=iter([data[: len(data) // 2], data[len(data) // 2 :]]))
    if patch.status_code != 202:
        return patch.status_code
    patched = patch.headers["Location"]
    patched = patched if patched.startswith("http") else url + patched
    return session.put(f"{patched}?digest={sha256_digest(data)}").status_code


@pytest.mark.parametrize("sqlite", [True, False], ids=["sqlite", "configured-db"])
def test_concurrent_pushes_of_one_blob_and_racing_tag_updates(tmp_path, sqlite):
    with running_server(tmp_path, sqlite=sqlite, web_workers=2) as server:
        url, name = server.url, "docker-local/race"
        session = requests.Session()
        session.auth = ("admin", server.admin_password)
        adapter = requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64)
        session.mount("http://", adapter)
        layer = bytes(range(256)) * 4096  # 1 MiB
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda _: _push_blob_chunked(session, url, name, layer), range(50)))
        assert statuses == [201] * 50

        configs = [json.dumps({"architecture": "amd64", "os": "linux", "n": i}).encode() for i in range(20)]
        manifests = []
        for config in configs:
            assert (
                session.post(f"{url}/v2/{name}/blobs/uploads/?digest={sha256_digest(config)}", data=config).status_code
                == 201
            )
            manifests.append(
                json.dumps(
                    {
                        "schemaVersion": 2,
                        "mediaType": DOCKER_MANIFEST,
                        "config": {
                            "mediaType": "application/vnd.docker.container.image.v1+json",
                            "digest": sha256_digest(config),
                            "size": len(config),
                        },
                        "layers": [
                            {
                                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                "digest": sha256_digest(layer),
                                "size": len(layer),
                            }
                        ],
                    }
                ).encode()
            )

        def put(raw):
            return session.put(
                f"{url}/v2/{name}/manifests/latest", data=raw, headers={"Content-Type": DOCKER_MANIFEST}
            ).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            assert list(pool.map(put, manifests)) == [201] * 20

        final = session.get(f"{url}/v2/{name}/manifests/latest", headers={"Accept": DOCKER_MANIFEST})
        assert final.status_code == 200 and final.content in manifests
        assert session.get(f"{url}/v2/{name}/tags/list").json()["tags"] == ["latest"]
        blob = session.get(f"{url}/v2/{name}/blobs/{sha256_digest(layer)}")
        assert blob.status_code == 200 and sha256_digest(blob.content) == sha256_digest(layer)
        stored = list((server.data_dir / "blobs").rglob("*"))
        for path in (p for p in stored if p.is_file()):
            assert sha256_digest(path.read_bytes()) == f"sha256:{path.name}"
        assert [p for p in (server.data_dir / "uploads").rglob("*") if p.is_file()] == []
