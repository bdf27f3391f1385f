"""The outbound URL policy (SSRF guard) that remotes use, and webhooks will."""

import pytest

from config.outbound import OutboundUrlRefused, is_public_address, outbound_url_check
from repos.services.upstream import UpstreamClient, UpstreamError


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000",
        "http://localhost",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:5000",
        "http://[::ffff:127.0.0.1]",
        "http://2130706433",
        "http://0177.0.0.1",
        "http://0x7f.1",
        "http://10.0.0.5",
        "http://192.168.1.1",
        "http://172.16.0.1",
        "http://100.64.0.1",
        "http://0.0.0.0",
        "http://[fe80::1]",
        "http://224.0.0.1",
    ],
)
def test_private_and_special_addresses_are_refused(url):
    with pytest.raises(OutboundUrlRefused, match="non-public|cannot resolve"):
        outbound_url_check(url)


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.org", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://x", "scheme"),
        ("https://user:secret@example.org", "credentials"),
        ("https://@example.org", "credentials"),
        ("https://", "no host"),
        ("https://example.org:99999", "port"),
        ("", "required"),
        ("https://exa mple.org", "required"),
        ("https://example.org/?x=1", "query"),
    ],
)
def test_malformed_urls_are_refused(url, message):
    with pytest.raises(OutboundUrlRefused, match=message):
        outbound_url_check(url, allow_private=True)


def test_private_addresses_allowed_when_asked():
    checked = outbound_url_check("http://127.0.0.1:5000", allow_private=True)
    assert checked.addresses == ("127.0.0.1",) and checked.port == 5000


def test_public_address():
    assert is_public_address("8.8.8.8") and not is_public_address("::ffff:10.0.0.1")


def test_client_checks_every_connection():
    client = UpstreamClient(base_url="http://127.0.0.1:9", allow_private=False)
    with pytest.raises(UpstreamError, match="refused to connect"):
        client.manifest("library/busybox", "latest", limit=1024)
