"""Issue 12, defects 1 and 5: what a manifest declares never becomes the size of bytes it did not upload,
and hostile descriptors or headers get a spec error, never a 500."""

import json

import pytest
from django.core.management import CommandError, call_command

from repos.models import Blob
from repos.oci import media_types
from repos.tests.registry.client import error_code
from tests.support import content as f
from tests.support.factories import RepositoryFactory

ATTACKER = "docker-local/bait"
VICTIM = "private-team/app"
FOREIGN = media_types.DOCKER_LAYER_FOREIGN
NONDIST = media_types.OCI_LAYER_NONDIST_TAR_GZIP


@pytest.fixture
def private(db, blob_storage):
    return RepositoryFactory(key="private-team", is_public=False)


def _manifest(config: bytes, layers: list[dict], *, config_type: str = media_types.DOCKER_CONFIG) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.DOCKER_MANIFEST_V2,
            "config": {"mediaType": config_type, "digest": f.digest_of(config), "size": len(config)},
            "layers": layers,
        }
    ).encode()


def _declare_foreign(registry, digest: str, size: int, media_type: str = FOREIGN):
    config = f.image_config()
    registry.push_blob(ATTACKER, config)
    raw = _manifest(
        config, [{"mediaType": media_type, "digest": digest, "size": size, "urls": ["https://example.invalid/layer"]}]
    )
    return registry.push_manifest(ATTACKER, "bait", raw, media_types.DOCKER_MANIFEST_V2)


def _chunked_push(client, name: str, data: bytes) -> None:
    start = client.post(f"/v2/{name}/blobs/uploads/")
    location = start["Location"]
    patch = client.patch(
        location, data=data, content_type="application/octet-stream", headers={"Content-Range": f"0-{len(data) - 1}"}
    )
    assert patch.status_code == 202, patch.content
    done = client.put(f"{location}?digest={f.digest_of(data)}")
    assert done.status_code == 201, done.content


def _assert_pulls_whole(client, name: str, data: bytes) -> None:
    digest = f.digest_of(data)
    head = client.head(f"/v2/{name}/blobs/{digest}")
    assert head.status_code == 200
    assert int(head["Content-Length"]) == len(data)
    response = client.get(f"/v2/{name}/blobs/{digest}")
    assert response.status_code == 200
    assert int(response["Content-Length"]) == len(data)
    assert b"".join(response.streaming_content) == data


@pytest.mark.parametrize("declared", [7, 2**40])
@pytest.mark.parametrize("media_type", [FOREIGN, NONDIST])
@pytest.mark.parametrize("chunked", [False, True])
def test_declared_foreign_size_never_becomes_the_size_of_a_later_upload(
    registry, client, private, declared, media_type, chunked
):
    secret = b"the real layer, pushed later into a private repository" * 50
    digest = f.digest_of(secret)
    assert _declare_foreign(registry, digest, declared, media_type).status_code == 201
    assert Blob.objects.get(digest=digest).size is None  # the declaration stored nothing about the bytes

    if chunked:
        _chunked_push(client, VICTIM, secret)
    else:
        registry.push_blob(VICTIM, secret)

    assert Blob.objects.get(digest=digest).size == len(secret)
    _assert_pulls_whole(client, VICTIM, secret)
    # The attacker's repository still does not serve the bytes: a declaration is not an upload.
    assert client.get(f"/v2/{ATTACKER}/blobs/{digest}").status_code == 404
    # Mounted or promoted elsewhere, the size stays the real one.
    mounted = client.post(f"/v2/docker-local/other/blobs/uploads/?mount={digest}&from={VICTIM}")
    assert mounted.status_code == 201
    _assert_pulls_whole(client, "docker-local/other", secret)
    call_command("registry_check")


def test_a_declaration_after_the_upload_changes_nothing(registry, client, private):
    secret = b"uploaded first" * 100
    registry.push_blob(VICTIM, secret)
    assert _declare_foreign(registry, f.digest_of(secret), 7).status_code == 201
    _assert_pulls_whole(client, VICTIM, secret)


def test_a_stored_layer_must_be_declared_with_its_real_size(registry):
    config, layer = f.image_config(), b"layer bytes" * 10
    registry.push_blob(ATTACKER, config)
    registry.push_blob(ATTACKER, layer)
    raw = _manifest(config, [{"mediaType": media_types.DOCKER_LAYER_TAR_GZIP, "digest": f.digest_of(layer), "size": 7}])
    response = registry.push_manifest(ATTACKER, "lying", raw, media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 400
    assert error_code(response) == "MANIFEST_INVALID"
    assert Blob.objects.get(digest=f.digest_of(layer)).size == len(layer)


def test_registry_check_reports_a_stored_size_that_differs_from_the_bytes(registry, capsys):
    data = b"some layer" * 20
    digest = registry.push_blob(ATTACKER, data)
    call_command("registry_check")
    Blob.objects.filter(digest=digest).update(size=7)  # as a poisoned row of an older version left it
    with pytest.raises(CommandError):
        call_command("registry_check")
    out = capsys.readouterr().out
    assert "size_mismatches: 1" in out and f"{digest} stored size 7, bytes {len(data)}" in out


# --- defect 5: bad input answers a spec error, not a 500 ----------------------------------------------------


@pytest.mark.parametrize("size", [2**63, 2**63 + 1, 2**64, 10**30])
@pytest.mark.parametrize("where", ["config", "layer", "foreign"])
def test_descriptor_sizes_of_2_63_and_more_are_invalid(registry, size, where):
    config = f.image_config()
    registry.push_blob(ATTACKER, config)
    layers = []
    if where == "layer":
        layers = [{"mediaType": media_types.DOCKER_LAYER_TAR_GZIP, "digest": f.digest_of(b"x"), "size": size}]
    elif where == "foreign":
        layers = [{"mediaType": FOREIGN, "digest": f.digest_of(b"x"), "size": size}]
    body = json.loads(_manifest(config, layers))
    if where == "config":
        body["config"]["size"] = size
    response = registry.push_manifest(ATTACKER, "big", json.dumps(body).encode(), media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 400
    assert error_code(response) == "MANIFEST_INVALID"


def test_foreign_sizes_adding_up_past_2_63_are_invalid(registry):
    config = f.image_config()
    registry.push_blob(ATTACKER, config)
    layers = [{"mediaType": FOREIGN, "digest": f.digest_of(bytes([i])), "size": 2**62} for i in range(3)]
    response = registry.push_manifest(ATTACKER, "sum", _manifest(config, layers), media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 400
    assert error_code(response) == "MANIFEST_INVALID"


@pytest.mark.parametrize(
    "config_type",
    [
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.example.foreign+json",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
    ],
)
def test_a_missing_config_is_unknown_whatever_its_media_type(registry, config_type):
    missing = b'{"never": "pushed"}'
    raw = _manifest(missing, [], config_type=config_type)
    response = registry.push_manifest(ATTACKER, "noconfig", raw, media_types.DOCKER_MANIFEST_V2)
    assert response.status_code == 400
    assert error_code(response) == "MANIFEST_BLOB_UNKNOWN"


@pytest.mark.parametrize(
    "content_range",
    [
        "0-" + "9" * 4301,
        "9" * 4301 + "-9" * 1,
        "0-99999999999999999999",
        "-1-5",
        "5-1",
        "a-b",
        "0-",
    ],
)
def test_hostile_content_range_gets_416(client, db, blob_storage, content_range):
    RepositoryFactory(key="docker-local")
    start = client.post(f"/v2/{ATTACKER}/blobs/uploads/")
    response = client.patch(
        start["Location"],
        data=b"abc",
        content_type="application/octet-stream",
        headers={"Content-Range": content_range},
    )
    assert response.status_code == 416
    assert error_code(response) == "BLOB_UPLOAD_INVALID"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/v2/nothing-here/x/y/z", "/v2/docker-local/app/unknown", "/v2/_nope"])
def test_writes_to_unknown_v2_paths_answer_the_spec_envelope(db, method, path):
    from django.test import Client

    response = getattr(Client(enforce_csrf_checks=True), method)(path, data=b"x", content_type="text/plain")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error_code(response) == "NAME_UNKNOWN"
