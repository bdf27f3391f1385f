import pytest

from repos.oci.platforms import (
    is_attestation,
    is_valid_platform,
    label_platform_tag,
    normalize_platform,
    parse_platform,
    platform_label,
    platform_tag,
)


@pytest.mark.parametrize(
    "fields,label",
    [
        (("linux", "amd64", ""), "linux/amd64"),
        (("linux", "arm64", "v8"), "linux/arm64/v8"),
        (("linux", "amd64", None), "linux/amd64"),
        (("", "", ""), ""),
    ],
)
def test_label_and_parse_agree(fields, label):
    assert platform_label(*fields) == label
    if label:
        assert parse_platform(label) == (fields[0], fields[1], fields[2] or "")


@pytest.mark.parametrize("label", ["", "linux", "linux/", "/amd64", "linux//v7", "a/b/c/d"])
def test_parse_refuses_what_is_not_two_or_three_parts(label):
    with pytest.raises(ValueError):
        parse_platform(label)


@pytest.mark.parametrize(
    "label,valid",
    [
        ("linux/amd64", True),
        ("linux/arm/v7", True),
        ("windows/amd64", True),
        ("Linux/amd64", False),
        ("linux/x86-64", False),
        ("linux", False),
        ("linux/arm/v7/x", False),
        (None, False),
    ],
)
def test_is_valid_platform(label, valid):
    assert is_valid_platform(label) is valid


@pytest.mark.parametrize(
    "os,arch,expected",
    [("unknown", "unknown", True), ("linux", "unknown", True), ("unknown", "amd64", True), ("linux", "amd64", False)],
)
def test_is_attestation(os, arch, expected):
    assert is_attestation(os, arch) is expected


@pytest.mark.parametrize(
    "args,expected",
    [
        (("1.0", "linux", "amd64", None), "1.0-linux-amd64"),
        (("1.0", "linux", "arm64", "v8"), "1.0-linux-arm64-v8"),
        (("tag", "linux", "arm", "v7"), "tag-linux-arm-v7"),
        (("tag", "linux", "amd64", ""), "tag-linux-amd64"),
        (("tag", "unknown", "unknown", None), None),
        (("tag", "linux", "unknown", None), None),
        (("tag", "unknown", "amd64", None), None),
        (("tag", "", "amd64", None), None),
        (("a" * 117, "linux", "amd64", None), None),  # 129 chars
        (("a" * 116, "linux", "amd64", None), "a" * 116 + "-linux-amd64"),  # 128
        (("tag", "linux", "arm/v7", None), None),
        (("tag", "linux", "amd64", "v 1"), None),
    ],
)
def test_platform_tag(args, expected):
    assert platform_tag(*args) == expected


@pytest.mark.parametrize(
    "label,expected",
    [
        ("linux/amd64", "1.0-linux-amd64"),
        ("linux/arm/v7", "1.0-linux-arm-v7"),
        ("unknown/unknown", None),
        ("linux", None),
    ],
)
def test_label_platform_tag(label, expected):
    assert label_platform_tag("1.0", label) == expected


@pytest.mark.parametrize(
    "fields,normalized",
    [
        (("linux", "arm64", ""), ("linux", "arm64", "v8")),
        (("linux", "arm", None), ("linux", "arm", "v7")),
        (("linux", "arm", "v6"), ("linux", "arm", "v6")),
        (("linux", "amd64", "v1"), ("linux", "amd64", "")),
        (("linux", "amd64", "v3"), ("linux", "amd64", "v3")),
        ((None, None, None), ("", "", "")),
    ],
)
def test_normalize_platform(fields, normalized):
    assert normalize_platform(*fields) == normalized
