"""Issue 12, defect 1 end to end: a manifest declaring a foreign layer of size 7 for a digest someone pushes later
into another (private) repository. skopeo then pushes the real image (token flow) and pulls it back (it checks every
size and digest); HEAD and GET through gunicorn give the real Content-Length in every repository holding it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from repos.oci.digests import sha256_digest as _digest
from tests.support.clients import admin_session, skopeo_copy
from tests.support.servers import running_server

pytestmark = pytest.mark.e2e
FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"


def _oci_layout(root: Path) -> tuple[bytes, str]:
    """An OCI image layout holding one image with one real layer; returns (layer bytes, layer digest)."""
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w") as archive:
        payload = b"the victim's secret layer\n" * 4000
        info = tarfile.TarInfo("secret.txt")
        info.size, info.mtime = len(payload), 0
        archive.addfile(info, io.BytesIO(payload))
    layer = gzip.compress(tar_buffer.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [_digest(tar_buffer.getvalue())]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _digest(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for data in (layer, config, manifest):
        (blobs / _digest(data)[7:]).write_bytes(data)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": _digest(manifest),
                        "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "1.0"},
                    }
                ],
            }
        )
    )
    return layer, _digest(layer)


def test_a_declared_foreign_size_never_reaches_a_pull(tmp_path):
    layer, layer_digest = _oci_layout(tmp_path / "layout")
    with running_server(tmp_path) as server:
        session = admin_session(server)
        # The attacker: write access to docker-local, a manifest declaring the future layer as foreign, size 7.
        config = b'{"architecture":"amd64","os":"linux"}'
        assert (
            session.post(
                f"{server.url}/v2/docker-local/bait/blobs/uploads/?digest={_digest(config)}", data=config
            ).status_code
            == 201
        )
        bait = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": _digest(config),
                    "size": len(config),
                },
                "layers": [{"mediaType": FOREIGN, "digest": layer_digest, "size": 7}],
            }
        ).encode()
        put = session.put(
            f"{server.url}/v2/docker-local/bait/manifests/1",
            data=bait,
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        assert put.status_code == 201, put.text

        # The victim: a stock client pushes the real image into the private docker-target, then pulls it.
        creds = f"admin:{server.admin_password}"
        target = f"docker://{server.host}/docker-target/secret:1.0"
        skopeo_copy(f"oci:{tmp_path / 'layout'}:1.0", target, dest_creds=creds)
        skopeo_copy(target, f"oci:{tmp_path / 'pulled'}:1.0", src_creds=creds)
        assert (tmp_path / "pulled" / "blobs" / "sha256" / layer_digest[7:]).read_bytes() == layer

        url = f"{server.url}/v2/docker-target/secret/blobs/{layer_digest}"
        head = session.head(url)
        assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(layer)
        got = session.get(url)
        assert int(got.headers["Content-Length"]) == len(got.content) == len(layer) and got.content == layer
        assert session.head(f"{server.url}/v2/docker-local/bait/blobs/{layer_digest}").status_code == 404
        assert "consistent" in server.manage("registry_check")
