import pytest

from repos.oci.names import (
    is_digest_reference,
    is_valid_key,
    is_valid_name,
    is_valid_tag,
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


@pytest.mark.parametrize("key", ["docker-local", "a", "seed.dev", "x_y-z", "a" * 64])
def test_valid_keys(key):
    assert is_valid_key(key)


@pytest.mark.parametrize("key", ["", "Docker", "a--b", "a__b", "-a", "a-", "a/b", "-", "a" * 65, None])
def test_invalid_keys(key):
    assert not is_valid_key(key)


@pytest.mark.parametrize("reference,is_digest", [("1.0", False), ("latest", False), ("sha256:" + "a" * 64, True)])
def test_is_digest_reference(reference, is_digest):
    assert is_digest_reference(reference) is is_digest
    # Tags cannot hold ":", so no reference is both.
    assert not (is_digest and is_valid_tag(reference))
