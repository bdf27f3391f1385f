"""The Git URL allow-list policy and the input grammar: SSRF targets are blocked unless an admin allows them."""

import pytest

from builds.errors import BuildInvalid
from builds.policy import (
    build_args_check,
    git_ref_check,
    git_url_check,
    platforms_check,
    relative_path_check,
    target_stage_check,
)
from builds.sources import git_fetch_config

BLOCKED = [
    "file:///etc/passwd",
    "ssh://git@example.com/repo.git",
    "git@example.com:team/repo.git",
    "ext::sh -c touch% /tmp/pwned",
    "http://127.0.0.1/repo.git",
    "http://127.1:8080/repo.git",
    "http://2130706433/repo.git",  # 127.0.0.1 as a decimal number
    "http://0x7f000001/repo.git",
    "http://localhost/repo.git",
    "http://[::1]/repo.git",
    "http://[::ffff:127.0.0.1]/repo.git",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/repo.git",
    "http://192.168.1.10/repo.git",
    "http://172.16.0.1/repo.git",
    "http://0.0.0.0/repo.git",
    "git://127.0.0.1/repo",
    "https://user:secret@example.com/repo.git",
    "https://",
    "",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_blocked_urls(url, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = []
    with pytest.raises(BuildInvalid) as refused:
        git_url_check(url)
    assert refused.value.field == "git_url"


def test_public_address_is_allowed_and_pinned(settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = []
    checked = git_url_check("https://93.184.215.14/team/app.git")
    assert checked.host == "93.184.215.14" and checked.port == 443 and checked.addresses == ("93.184.215.14",)
    config = git_fetch_config(checked)
    assert "http.followRedirects=false" in config
    assert "http.curloptResolve=93.184.215.14:443:93.184.215.14" in config


@pytest.mark.parametrize(
    "allowed,url",
    [
        (["127.0.0.1"], "git://127.0.0.1:9418/repo"),
        (["127.0.0.1:8080"], "http://127.0.0.1:8080/repo.git"),
        (["LOCALHOST"], "http://localhost/repo.git"),
    ],
)
def test_admin_allow_list(settings, allowed, url):
    settings.BUILD_GIT_ALLOWED_HOSTS = allowed
    assert git_url_check(url).url == url


def test_allow_list_is_per_host_and_port(settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1:8080"]
    with pytest.raises(BuildInvalid):
        git_url_check("http://127.0.0.1:9090/repo.git")
    with pytest.raises(BuildInvalid):
        git_url_check("http://localhost:8080/repo.git")  # same address, but not the allowed name


@pytest.mark.parametrize("ref", ["main", "v1.2.3", "feature/x", "0123abc", "a" * 40])
def test_good_refs(ref):
    assert git_ref_check(ref) == ref


@pytest.mark.parametrize("ref", ["-c", "--upload-pack=touch x", "a..b", "main:refs/heads/x", "x y", "ref.lock", "a/"])
def test_bad_refs(ref):
    with pytest.raises(BuildInvalid):
        git_ref_check(ref)


@pytest.mark.parametrize("value,expected", [("", ""), (".", ""), ("sub/dir", "sub/dir"), ("./a//b/", "a/b")])
def test_relative_paths(value, expected):
    assert relative_path_check("context_dir", value) == expected


@pytest.mark.parametrize("value", ["/etc", "..", "../x", "a/../../b", "a/../b", "a\\..\\..\\b"])
def test_paths_leaving_the_context(value):
    with pytest.raises(BuildInvalid):
        relative_path_check("dockerfile", value)


def test_build_args_and_stage():
    assert build_args_check({"VERSION": 1, "EMPTY": None}) == {"VERSION": "1", "EMPTY": ""}
    for bad in ({"1X": "a"}, {"A B": "x"}, {"X": "a\x00b"}):
        with pytest.raises(BuildInvalid):
            build_args_check(bad)
    assert target_stage_check("runtime") == "runtime"
    with pytest.raises(BuildInvalid):
        target_stage_check("--output=/")


def test_platforms(settings):
    settings.BUILD_PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    assert platforms_check(["linux/arm64", "linux/amd64", "linux/arm64"]) == ["linux/arm64", "linux/amd64"]
    with pytest.raises(BuildInvalid):
        platforms_check([])
    with pytest.raises(BuildInvalid, match="unsupported"):
        platforms_check(["windows/amd64"])
