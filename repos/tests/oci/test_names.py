import pytest

from repos.oci.names import (
    is_valid_name,
    is_valid_tag,
    platform_tag,
    split_name,
)


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "library/nginx",
        "docker-local/team/app",
        "a.b/c_d/e__f/g---h",
        "0/1/2",
        "x" * 255,
        "/".join(["ab"] * 85),  # 254 chars
    ],
)
def test_valid_names(name):
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../etc",
        "docker-local/../secret",
        "docker-local/./app",
        "docker-local%2Fapp",
        "docker-local/%2e%2e",
        "Docker-Local/app",
        "docker-local/App",
        "a" * 256,
        "a" * 300,
        "/leading",
        "trailing/",
        "a//b",
        "a___b",
        "a..b",
        "-a",
        "a-",
        "a_",
        ".a",
        "a b",
        "a\n",
        "a/b\n",
        "caf\u00e9",
        None,
        123,
    ],
)
def test_invalid_names(name):
    assert not is_valid_name(name)


@pytest.mark.parametrize(
    "tag",
    ["latest", "1.0", "v1.2.3-rc.1", "_private", "A_b-C.d", "a" * 128, "sha256-" + "a" * 64],
)
def test_valid_tags(tag):
    assert is_valid_tag(tag)


@pytest.mark.parametrize(
    "tag",
    ["", "a" * 129, ".hidden", "-dash", "a/b", "a:b", "a@b", "tag\n", "t\u00e4g", "../x", None],
)
def test_invalid_tags(tag):
    assert not is_valid_tag(tag)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("docker-local/team/app", ("docker-local", "team/app")),
        ("docker-local/app", ("docker-local", "app")),
    ],
)
def test_split_name(name, expected):
    assert split_name(name) == expected


@pytest.mark.parametrize("name", ["", "app", "/app", "docker-local/"])
def test_split_name_rejects(name):
    with pytest.raises(ValueError):
        split_name(name)


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
