"""oras (the Python client from PyPI) attaches an SBOM to a multi-arch image through `subject`, and
finds it again through the referrers API (with and without an artifactType filter)."""

import uuid
from urllib.parse import urlencode

import oras.client
import oras.oci
import pytest
import requests

from repos.oci import media_types
from tests.support import content

pytestmark = pytest.mark.e2e
SBOM_CONFIG_TYPE = "application/vnd.example.sbom.config.v1+json"


def _oras(server) -> oras.client.OrasClient:
    # oras-py's token backend reuses its first token for every scope; Basic answers each challenge.
    client = oras.client.OrasClient(hostname=server.host, insecure=True, auth_backend="basic")
    client.auth.set_basic_auth("admin", server.admin_password)
    return client


def test_oras_pushes_an_artifact_with_subject_and_finds_it_via_referrers(registry_server, tmp_path):
    name = f"docker-local/oras-{uuid.uuid4().hex[:6]}"
    session = requests.Session()
    session.auth = ("admin", registry_server.admin_password)
    image_set = content.multiarch_image(name)
    content.push_over_http(session, registry_server.url, name, "v1", image_set)

    sbom = tmp_path / "sbom.spdx.json"
    sbom.write_text('{"spdxVersion": "SPDX-2.3", "name": "multiarch"}')
    config = tmp_path / "config.json"
    config.write_text("{}")
    client = _oras(registry_server)
    subject = oras.oci.Subject(mediaType=media_types.OCI_INDEX, digest=image_set.digest, size=len(image_set.index))
    pushed = client.push(
        target=f"{registry_server.host}/{name}:sbom",
        files=[f"{sbom}:application/spdx+json"],
        manifest_config=f"{config}:{SBOM_CONFIG_TYPE}",
        manifest_annotations={"org.example.kind": "sbom"},
        subject=subject,
        disable_path_validation=True,
        quiet=True,
    )
    assert pushed.status_code == 201
    assert pushed.headers["OCI-Subject"] == image_set.digest
    sbom_digest = pushed.headers["Docker-Content-Digest"]

    referrers_url = f"http://{registry_server.host}/v2/{name}/referrers/{image_set.digest}"
    found = client.do_request(referrers_url).json()["manifests"]
    assert [(d["digest"], d["artifactType"]) for d in found] == [(sbom_digest, SBOM_CONFIG_TYPE)]
    assert found[0]["annotations"] == {"org.example.kind": "sbom"}
    filtered = client.do_request(f"{referrers_url}?{urlencode({'artifactType': SBOM_CONFIG_TYPE})}")
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in filtered.json()["manifests"]] == [sbom_digest]
    other = client.do_request(f"{referrers_url}?artifactType=application/vnd.example.signature")
    assert other.json()["manifests"] == []

    pulled = client.pull(target=f"{registry_server.host}/{name}@{sbom_digest}", outdir=str(tmp_path / "out"))
    assert [open(path).read() for path in pulled] == [sbom.read_text()]
