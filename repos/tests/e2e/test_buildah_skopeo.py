"""buildah manifest push --all (an OCI index) and skopeo copy --all round trips."""

import uuid

import pytest

from repos.oci.digests import sha256_digest
from tests.support.clients import (
    buildah,
    buildah_build_list,
    registry_manifest,
    registry_tags,
    skopeo_copy,
    skopeo_raw,
    write_context,
)

pytestmark = pytest.mark.e2e


def test_buildah_index_push_then_skopeo_round_trip(registry_server, tmp_path):
    storage = tmp_path / "buildah"
    context = write_context(tmp_path / "ctx", content=f"buildah {uuid.uuid4().hex}\n")
    list_name = f"localhost/buildah-list-{uuid.uuid4().hex[:6]}"
    buildah_build_list(storage, context, list_name)
    target = f"docker://{registry_server.host}/docker-local/buildah-image:tag"
    # `buildah login` into a private auth file, then push with it; skopeo below uses --creds.
    authfile = tmp_path / "auth.json"
    creds = f"admin:{registry_server.admin_password}"
    buildah(
        storage,
        "login",
        "--tls-verify=false",
        "--authfile",
        str(authfile),
        "--username",
        "admin",
        "--password",
        registry_server.admin_password,
        registry_server.host,
    )
    buildah(storage, "manifest", "push", "--all", "--tls-verify=false", "--authfile", str(authfile), list_name, target)

    name = "docker-local/buildah-image"
    index, index_digest, raw = registry_manifest(registry_server, name, "tag")
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert {m["platform"]["architecture"] for m in index["manifests"]} == {"amd64", "arm64"}
    assert {"tag", "tag-linux-amd64", "tag-linux-arm64"} <= set(registry_tags(registry_server, name))

    layout = tmp_path / "layout"
    skopeo_copy(target, f"oci:{layout}:tag", "--all", src_creds=creds)
    back = f"docker://{registry_server.host}/docker-local/copied-back:tag"
    skopeo_copy(f"oci:{layout}:tag", back, "--all", dest_creds=creds)
    copied = skopeo_raw(back, creds)
    assert sha256_digest(copied) == index_digest
    assert copied == raw
    for manifest in index["manifests"]:
        child = skopeo_raw(f"docker://{registry_server.host}/docker-local/copied-back@{manifest['digest']}", creds)
        assert sha256_digest(child) == manifest["digest"]
