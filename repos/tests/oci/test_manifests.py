import copy
import json

import pytest

from repos.oci import media_types as mt
from repos.oci.manifests import (
    Descriptor,
    ImageIndex,
    ImageManifest,
    ManifestError,
    MediaTypeMismatch,
    Platform,
    UnsupportedManifestType,
    parse_manifest,
    referenced_digests,
)

from .samples import DOCKER_LIST, DOCKER_V2, OCI_INDEX, OCI_MANIFEST_WITH_SUBJECT, d, dumps


def test_docker_v2_manifest():
    m = parse_manifest(dumps(DOCKER_V2), mt.DOCKER_MANIFEST_V2)
    assert isinstance(m, ImageManifest) and not m.is_index
    assert m.media_type == mt.DOCKER_MANIFEST_V2
    assert m.config == Descriptor(media_type=mt.DOCKER_CONFIG, digest=d("config"), size=1469)
    assert [layer.size for layer in m.layers] == [3370706, 1024]
    assert m.subject is None and m.artifact_type is None
    assert m.effective_artifact_type == mt.DOCKER_CONFIG
    assert referenced_digests(m) == [d("config"), d("l1"), d("l2")]


def test_docker_manifest_list_platforms():
    idx = parse_manifest(dumps(DOCKER_LIST), mt.DOCKER_MANIFEST_LIST_V2)
    assert isinstance(idx, ImageIndex) and idx.is_index
    labels = [c.platform.label for c in idx.manifests]
    assert labels == ["linux/amd64", "linux/arm64/v8", "linux/arm/v7", "unknown/unknown"]
    assert [c.platform.is_attestation for c in idx.manifests] == [False, False, False, True]
    assert idx.manifests[3].annotations["vnd.docker.reference.type"] == "attestation-manifest"
    assert referenced_digests(idx) == [d("amd64"), d("arm64"), d("armv7"), d("attestation")]


def test_oci_manifest_with_subject_and_artifact_type():
    m = parse_manifest(dumps(OCI_MANIFEST_WITH_SUBJECT), mt.OCI_MANIFEST)
    assert isinstance(m, ImageManifest)
    assert m.artifact_type == "application/vnd.example.sbom.v1+json"
    assert m.effective_artifact_type == m.artifact_type
    assert m.config.media_type == mt.OCI_EMPTY
    assert m.subject == Descriptor(media_type=mt.OCI_MANIFEST, digest=d("target"), size=1234)
    assert m.annotations == {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
    assert m.layers[0].annotations["org.opencontainers.image.title"] == "sbom.json"
    # subject is not owned content
    assert d("target") not in referenced_digests(m)


def test_oci_index():
    idx = parse_manifest(dumps(OCI_INDEX), mt.OCI_INDEX + "; charset=utf-8")
    assert isinstance(idx, ImageIndex) and idx.media_type == mt.OCI_INDEX
    win = idx.manifests[1].platform
    assert win == Platform(os="windows", architecture="amd64", os_version="10.0.17763.1457", os_features=["win32k"])
    assert idx.annotations == {"org.opencontainers.image.ref.name": "1.0"}


def test_content_type_used_when_media_type_absent():
    doc = copy.deepcopy(DOCKER_V2)
    del doc["mediaType"]
    assert parse_manifest(dumps(doc), mt.DOCKER_MANIFEST_V2).media_type == mt.DOCKER_MANIFEST_V2


@pytest.mark.parametrize(
    "doc,expected",
    [(OCI_INDEX, mt.OCI_INDEX), (OCI_MANIFEST_WITH_SUBJECT, mt.OCI_MANIFEST)],
)
def test_media_type_inferred_from_structure(doc, expected):
    doc = copy.deepcopy(doc)
    del doc["mediaType"]
    assert parse_manifest(dumps(doc), None).media_type == expected
    assert parse_manifest(dumps(doc), "").media_type == expected


def test_ambiguous_structure_rejected():
    doc = copy.deepcopy(OCI_MANIFEST_WITH_SUBJECT)
    del doc["mediaType"]
    doc["manifests"] = []
    with pytest.raises(ManifestError, match="cannot determine"):
        parse_manifest(dumps(doc))


@pytest.mark.parametrize(
    "doc,content_type",
    [
        (DOCKER_V2, mt.OCI_MANIFEST),
        (DOCKER_V2, mt.DOCKER_MANIFEST_LIST_V2),
        (OCI_INDEX, mt.OCI_MANIFEST),
        (DOCKER_LIST, "application/json"),
    ],
)
def test_content_type_mismatch(doc, content_type):
    with pytest.raises(MediaTypeMismatch):
        parse_manifest(dumps(doc), content_type)


def test_content_type_parameters_and_case_ignored():
    m = parse_manifest(dumps(DOCKER_V2), " Application/vnd.docker.distribution.manifest.v2+json ;charset=utf-8")
    assert m.media_type == mt.DOCKER_MANIFEST_V2


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b"\xff\xfe\x00", b"[]", b"null", b"2", b'"str"', b'{"a":1,"a":2}'],
)
def test_invalid_json(raw):
    with pytest.raises(ManifestError):
        parse_manifest(raw, mt.OCI_MANIFEST)


def test_schema1_rejected():
    schema1 = {
        "schemaVersion": 1,
        "name": "library/hello",
        "tag": "latest",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": d("x")}],
        "history": [{"v1Compatibility": "{}"}],
    }
    with pytest.raises(UnsupportedManifestType, match="schema1"):
        parse_manifest(dumps(schema1), None)
    with pytest.raises(UnsupportedManifestType, match="schema1"):
        parse_manifest(dumps(schema1), mt.DOCKER_MANIFEST_V1_SIGNED)
    with pytest.raises(UnsupportedManifestType):
        parse_manifest(dumps({**DOCKER_V2, "mediaType": mt.DOCKER_MANIFEST_V1}))


@pytest.mark.parametrize(
    "media_type", ["application/json", "text/plain", "application/vnd.oci.artifact.manifest.v1+json"]
)
def test_unknown_media_type(media_type):
    doc = {**DOCKER_V2, "mediaType": media_type}
    with pytest.raises(UnsupportedManifestType):
        parse_manifest(dumps(doc))


@pytest.mark.parametrize("version", [None, 3, "2", 2.0, True, [2]])
def test_wrong_schema_version(version):
    doc = copy.deepcopy(DOCKER_V2)
    if version is None:
        del doc["schemaVersion"]
    else:
        doc["schemaVersion"] = version
    with pytest.raises(ManifestError, match="schemaVersion"):
        parse_manifest(dumps(doc))


def _mutate(base, path, value):
    doc = copy.deepcopy(base)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    "base,path,value",
    [
        (DOCKER_V2, ["config", "digest"], "sha256:../x"),
        (DOCKER_V2, ["config", "digest"], "sha256:" + "A" * 64),
        (DOCKER_V2, ["layers", 0, "digest"], "sha256:%2e%2e"),
        (DOCKER_V2, ["layers", 1, "digest"], "md5:" + "a" * 32),
        (DOCKER_V2, ["layers", 1, "digest"], KeyError),
        (DOCKER_V2, ["layers", 0, "size"], -1),
        (DOCKER_V2, ["layers", 0, "size"], 1.5),
        (DOCKER_V2, ["layers", 0, "size"], "10"),
        (DOCKER_V2, ["layers", 0, "size"], True),
        (DOCKER_V2, ["layers", 0, "size"], KeyError),
        (DOCKER_V2, ["layers", 0, "mediaType"], KeyError),
        (DOCKER_V2, ["layers", 0, "mediaType"], 7),
        (DOCKER_V2, ["layers", 0], "sha256:" + "a" * 64),
        (DOCKER_V2, ["layers", 0, "urls"], "http://x"),
        (DOCKER_V2, ["layers"], {}),
        (DOCKER_V2, ["layers"], KeyError),
        (DOCKER_V2, ["config"], KeyError),
        (DOCKER_V2, ["config"], []),
        (DOCKER_V2, ["annotations"], {"a": 1}),
        (DOCKER_V2, ["annotations"], ["a"]),
        (DOCKER_V2, ["mediaType"], 5),
        (DOCKER_LIST, ["manifests"], KeyError),
        (DOCKER_LIST, ["manifests"], None),
        (DOCKER_LIST, ["manifests", 0, "digest"], "sha256:abc"),
        (DOCKER_LIST, ["manifests", 0, "size"], KeyError),
        (DOCKER_LIST, ["manifests", 0, "mediaType"], KeyError),
        (DOCKER_LIST, ["manifests", 0, "platform"], "linux/amd64"),
        (DOCKER_LIST, ["manifests", 0, "platform", "os"], KeyError),
        (DOCKER_LIST, ["manifests", 0, "platform", "architecture"], 64),
        (DOCKER_LIST, ["manifests", 0, "platform", "features"], "sse4"),
        (OCI_MANIFEST_WITH_SUBJECT, ["subject", "digest"], "sha256:../../x"),
        (OCI_MANIFEST_WITH_SUBJECT, ["subject"], "sha256:" + "a" * 64),
        (OCI_MANIFEST_WITH_SUBJECT, ["artifactType"], {"x": 1}),
    ],
)
def test_invalid_fields(base, path, value):
    with pytest.raises(ManifestError):
        parse_manifest(dumps(_mutate(base, path, value)))


def test_empty_layers_allowed_for_artifacts():
    doc = {**OCI_MANIFEST_WITH_SUBJECT, "layers": []}
    m = parse_manifest(dumps(doc))
    assert m.layers == []


def test_referenced_digests_dedupes():
    layer = DOCKER_V2["layers"][0]
    doc = {**DOCKER_V2, "layers": [layer, layer]}
    assert referenced_digests(parse_manifest(dumps(doc))) == [d("config"), d("l1")]


def test_accepts_str_and_bytearray():
    raw = json.dumps(DOCKER_V2)
    assert parse_manifest(raw).media_type == mt.DOCKER_MANIFEST_V2
    assert parse_manifest(bytearray(raw.encode())).media_type == mt.DOCKER_MANIFEST_V2


def test_error_has_reason():
    with pytest.raises(ManifestError) as info:
        parse_manifest(b"[]")
    assert info.value.reason == "manifest must be a JSON object"
    assert isinstance(info.value, ValueError)
