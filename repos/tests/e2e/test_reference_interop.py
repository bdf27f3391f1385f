"""`skopeo copy --all` between this registry and the reference registry (`docker-registry`), both
ways: every manifest arrives byte-identical, so the index and per-platform digests stay the same."""

import json
import uuid

import pytest
import requests

from conftest import require_tool
from repos.oci.digests import sha256_digest as _sha
from repos.tests.e2e.reference_registry import reference_registry
from tests.support import content
from tests.support.clients import registry_tags, skopeo_copy, skopeo_raw

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    require_tool("docker-registry")
    with reference_registry(tmp_path_factory.mktemp("reference")) as registry:
        yield registry


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-manifest-list"])
def test_skopeo_copy_all_both_ways_keeps_every_digest(registry_server, reference, docker):
    creds = f"admin:{registry_server.admin_password}"
    ours = requests.Session()
    ours.auth = ("admin", registry_server.admin_password)
    suffix = uuid.uuid4().hex[:6]
    image_set = content.multiarch_image(f"interop {suffix}", docker=docker)
    content.push_over_http(ours, registry_server.url, f"docker-local/interop-{suffix}", "v1", image_set)

    origin = f"docker://{registry_server.host}/docker-local/interop-{suffix}:v1"
    at_reference = f"docker://{reference.host}/interop-{suffix}:v1"
    back = f"docker://{registry_server.host}/docker-target/interop-{suffix}:v1"
    skopeo_copy(origin, at_reference, "--all", "--preserve-digests", src_creds=creds)
    skopeo_copy(at_reference, back, "--all", "--preserve-digests", dest_creds=creds)

    copies = {
        "origin": skopeo_raw(origin, creds),
        "reference": skopeo_raw(at_reference),
        "back": skopeo_raw(back, creds),
    }
    assert {name: _sha(raw) for name, raw in copies.items()} == dict.fromkeys(copies, image_set.digest)
    index = json.loads(copies["back"])
    assert index["mediaType"] == image_set.index_type
    children = [entry["digest"] for entry in index["manifests"]]
    assert children == [content.digest_of(raw) for raw, _ in image_set.manifests]
    for digest in children:
        assert _sha(skopeo_raw(f"docker://{reference.host}/interop-{suffix}@{digest}")) == digest
        assert _sha(skopeo_raw(f"{back.rsplit(':', 1)[0]}@{digest}", creds)) == digest
    # The copy back is a first-class multi-arch push here: per-platform tags included.
    assert set(registry_tags(registry_server, f"docker-target/interop-{suffix}", session=ours)) == {
        "v1",
        "v1-linux-amd64",
        "v1-linux-arm64",
        "v1-linux-arm-v7",
    }
