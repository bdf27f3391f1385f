"""Issue 12, "keep the proof running": property-based tests of the /v2/ API and its header parsers.

Whatever the name, reference, digest, header or descriptor: never a 5xx, every error in the spec's JSON
envelope, nothing written outside the storage root, and every stored blob size equal to its bytes.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from repos import errors
from repos.consistency import consistency_check
from repos.oci import media_types
from repos.registry.streams import parse_content_range
from repos.registry.views.blobs import _parse_range
from tests.support import content as f

BOUNDED = hypothesis_settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
NAME = "docker-local/app"
HOSTILE_SEGMENTS = st.sampled_from(
    [
        "..",
        "../..",
        "%2e%2e",
        "%2E%2E%2F",
        "%2F",
        "a%00b",
        "sha256:../x",
        "sha256:" + "a" * 64,
        "sha256:" + "g" * 64,
        "x" * 300,
        "UPPER",
        "-lead",
        "a..b",
        ".hidden",
        "tag:with:colons",
        "\u00e9",
        "a b",
        "%",
        "%%",
        "/",
        "//",
        "9" * 4400,
        "sha512:" + "0" * 128,
        "_catalog",
        "uploads",
        "blobs",
        "manifests",
    ]
)
SEGMENTS = st.one_of(HOSTILE_SEGMENTS, st.text(alphabet="abc./%:-_Z09", min_size=1, max_size=40))
METHODS = st.sampled_from(["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"])
ROUTES = st.sampled_from(
    [
        "{name}/manifests/{ref}",
        "{name}/blobs/{ref}",
        "{name}/blobs/uploads/{ref}",
        "{name}/blobs/uploads/",
        "{name}/tags/list",
        "{name}/referrers/{ref}",
        "{ref}",
    ]
)


def _files_outside(root, allowed: set[str]) -> list[str]:
    return sorted(entry for entry in os.listdir(root) if entry not in allowed)


def _assert_spec_answer(response, method: str):
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400 and method != "HEAD":
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        body = response.json()
        assert isinstance(body.get("errors"), list) and body["errors"][0]["code"], body


@BOUNDED
@given(
    method=METHODS,
    route=ROUTES,
    name=st.lists(SEGMENTS, min_size=1, max_size=4),
    ref=SEGMENTS,
    body=st.binary(max_size=64),
    content_range=st.one_of(st.none(), st.text(max_size=30)),
)
def test_any_path_and_method_answers_the_spec_envelope_without_5xx(
    registry, blob_storage, method, route, name, ref, body, content_range
):
    path = "/v2/" + route.format(name="/".join(name), ref=ref)
    headers = {"Content-Range": content_range} if content_range else {}
    response = registry.client.generic(
        method, path, data=body, content_type="application/octet-stream", headers=headers
    )
    _assert_spec_answer(response, method)
    assert _files_outside(blob_storage, {"blobs", "uploads"}) == []


SIZES = st.one_of(
    st.integers(min_value=-2, max_value=2**20),
    st.sampled_from([0, 7, 2**40, 2**63 - 1, 2**63, 2**64]),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
)
LAYER_TYPES = st.sampled_from(
    [
        media_types.DOCKER_LAYER_TAR_GZIP,
        media_types.OCI_LAYER_TAR_GZIP,
        media_types.DOCKER_LAYER_FOREIGN,
        media_types.OCI_LAYER_NONDIST_TAR_GZIP,
        "application/vnd.example.foreign",
        "text/plain",
        "",
    ]
)
CONFIG_TYPES = st.sampled_from(
    [
        media_types.DOCKER_CONFIG,
        media_types.OCI_CONFIG,
        media_types.DOCKER_LAYER_FOREIGN,
        "application/vnd.example.foreign+json",
        "application/vnd.oci.empty.v1+json",
    ]
)


@BOUNDED
@given(data=st.data())
def test_hostile_descriptors_never_change_a_stored_size(registry, client, data):
    config, real_layer = f.image_config(), b"a real layer"
    stored = {f.digest_of(config): config, f.digest_of(real_layer): real_layer}
    for blob in stored.values():
        registry.push_blob(NAME, blob)
    later = data.draw(st.binary(min_size=1, max_size=64), label="bytes pushed after the manifest")
    candidates = [*stored, f.digest_of(later), f.digest_of(b"never pushed")]
    layers = [
        {
            "mediaType": data.draw(LAYER_TYPES),
            "digest": data.draw(st.sampled_from(candidates)),
            "size": data.draw(SIZES),
        }
        for _ in range(data.draw(st.integers(0, 3)))
    ]
    config_digest = data.draw(st.sampled_from(candidates))
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_types.DOCKER_MANIFEST_V2,
            "config": {
                "mediaType": data.draw(CONFIG_TYPES),
                "digest": config_digest,
                "size": data.draw(st.one_of(st.just(len(stored.get(config_digest, b""))), SIZES)),
            },
            "layers": layers,
        }
    ).encode()
    response = registry.push_manifest(NAME, "t", raw, media_types.DOCKER_MANIFEST_V2)
    _assert_spec_answer(response, "PUT")
    registry.client.post(
        f"/v2/other-repo/x/blobs/uploads/?digest={f.digest_of(later)}",
        data=later,
        content_type="application/octet-stream",
    )
    digest = registry.push_blob(NAME, later)
    head = client.head(f"/v2/{NAME}/blobs/{digest}")
    assert int(head["Content-Length"]) == len(later)
    assert consistency_check().size_mismatches == []


@BOUNDED
@given(
    value=st.one_of(
        st.text(max_size=60),
        st.from_regex(r"\d{1,30}-\d{1,30}", fullmatch=True),
        st.builds(lambda a, b: f"{a}-{b}", st.integers(), st.integers()),
        st.just("0-" + "9" * 4301),
    )
)
def test_content_range_parser_returns_offsets_or_a_range_error(value):
    try:
        start, end = parse_content_range(value) or (0, 0)
    except errors.RangeInvalid:
        return
    assert 0 <= start <= end < 10**19


@BOUNDED
@given(
    value=st.one_of(
        st.text(max_size=60),
        st.from_regex(r"bytes=\d{0,25}-\d{0,25}", fullmatch=True),
        st.just("bytes=0-" + "9" * 4301),
    ),
    size=st.integers(min_value=1, max_value=10**6),
)
def test_range_parser_returns_a_satisfiable_range_or_416(value, size):
    try:
        result = _parse_range(value, size)
    except errors.RangeInvalid as exc:
        assert exc.status == 416 and exc.headers["Content-Range"] == f"bytes */{size}"
        return
    if result is not None:
        start, end = result
        assert 0 <= start <= end < size
