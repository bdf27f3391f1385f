"""Property tests: arbitrary input yields ManifestError or a parse, nothing else."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repos.oci import media_types as mt
from repos.oci.image_config import ImageConfig, parse_image_config
from repos.oci.manifests import ImageIndex, ImageManifest, ManifestError, parse_manifest

from .samples import DOCKER_LIST, DOCKER_V2, OCI_INDEX, OCI_MANIFEST_WITH_SUBJECT, d

CONTENT_TYPES = st.one_of(
    st.none(), st.sampled_from(sorted(mt.MANIFEST_TYPES) + ["", "application/json"]), st.text(max_size=40)
)
KEYS = st.sampled_from(
    [
        "schemaVersion",
        "mediaType",
        "config",
        "layers",
        "manifests",
        "subject",
        "artifactType",
        "annotations",
        "digest",
        "size",
        "platform",
        "os",
        "architecture",
        "variant",
        "urls",
        "os.version",
        "os.features",
        "features",
        "history",
        "rootfs",
        "diff_ids",
        "Cmd",
        "Env",
        "Labels",
        "ExposedPorts",
        "empty_layer",
        "created_by",
    ]
) | st.text(max_size=8)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(sorted(mt.MANIFEST_TYPES) + [d("x"), "sha256:../x", 2, -1, "linux", "unknown"]),
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)
SAMPLES = st.sampled_from([DOCKER_V2, DOCKER_LIST, OCI_INDEX, OCI_MANIFEST_WITH_SUBJECT])

fuzz = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _check_manifest(raw, content_type):
    try:
        result = parse_manifest(raw, content_type)
    except ManifestError:
        return
    assert isinstance(result, (ImageManifest, ImageIndex))


@fuzz
@given(raw=st.binary(max_size=512), content_type=CONTENT_TYPES)
def test_manifest_arbitrary_bytes(raw, content_type):
    _check_manifest(raw, content_type)
    assert isinstance(parse_image_config(raw), ImageConfig)


@fuzz
@given(doc=JSONISH, content_type=CONTENT_TYPES)
def test_manifest_arbitrary_json(doc, content_type):
    raw = json.dumps(doc).encode()
    _check_manifest(raw, content_type)
    assert isinstance(parse_image_config(raw), ImageConfig)


@fuzz
@given(base=SAMPLES, key=KEYS, value=JSONISH, content_type=CONTENT_TYPES, data=st.data())
def test_manifest_mutated_samples(base, key, value, content_type, data):
    """Near-valid documents reach deeper code paths than random JSON."""
    doc = json.loads(json.dumps(base))
    # Replace a field at the top level or inside one of the descriptors.
    containers = [doc] + [c for k in ("layers", "manifests") for c in doc.get(k, [])]
    containers += [doc[k] for k in ("config", "subject") if k in doc]
    target = data.draw(st.sampled_from(containers))
    target[key] = value
    raw = json.dumps(doc).encode()
    _check_manifest(raw, content_type)
    assert isinstance(parse_image_config(raw), ImageConfig)


def test_deep_nesting():
    for raw in (b"[" * 100_000, b'{"a":' * 100_000, b"[" * 100_000 + b"]" * 100_000):
        _check_manifest(raw, None)
        assert parse_image_config(raw) == ImageConfig()


def test_huge_integer_literal():
    raw = b'{"schemaVersion": 2, "size": ' + b"9" * 10_000 + b"}"
    _check_manifest(raw, mt.OCI_MANIFEST)
    assert parse_image_config(raw) == ImageConfig()
