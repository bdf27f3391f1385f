import hashlib
import re

import pytest

from repos.oci.digests import (
    DIGEST_RE,
    SUPPORTED_DIGEST_PATTERN,
    Digest,
    InvalidDigest,
    hasher_digest,
    is_valid_digest,
    parse_digest,
    sha256_digest,
)

HEX64 = "a" * 62 + "0f"
HEX128 = "0123456789abcdef" * 8


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sha256:",
        ":" + HEX64,
        "sha256:../x",
        "sha256:../../etc/passwd",
        "sha256:%2e%2e",
        "%2e%2e/" + HEX64,
        "sha256/" + HEX64,
        "sha256:" + HEX64.upper(),
        "SHA256:" + HEX64,
        "sha256:" + HEX64[:63],
        "sha256:" + HEX64 + "0",
        "sha256:" + HEX64 + "\n",
        "sha256:" + HEX64 + "/",
        " sha256:" + HEX64,
        "sha256:" + "g" * 64,
        "sha256:" + HEX64[:62] + "\u0660\u0661",  # non-ASCII digits
        "md5:" + "a" * 32,
        "sha384:" + "a" * 96,
        "sha512:" + HEX64,
        HEX64,
    ],
)
def test_rejected(value):
    with pytest.raises(InvalidDigest):
        parse_digest(value)
    assert not is_valid_digest(value)
    assert not re.fullmatch(SUPPORTED_DIGEST_PATTERN, value)  # URL routes refuse what the parser refuses


@pytest.mark.parametrize(
    "value,algorithm,hexpart",
    [
        ("sha256:" + HEX64, "sha256", HEX64),
        ("sha512:" + HEX128, "sha512", HEX128),
    ],
)
def test_accepted(value, algorithm, hexpart):
    parsed = parse_digest(value)
    assert parsed == Digest(algorithm=algorithm, hex=hexpart)
    assert str(parsed) == value
    assert is_valid_digest(value)
    assert re.fullmatch(SUPPORTED_DIGEST_PATTERN, value)


def test_is_valid_digest_non_string():
    assert not is_valid_digest(None)
    assert not is_valid_digest(b"sha256:" + HEX64.encode())


def test_parse_digest_non_string_raises_invalid():
    with pytest.raises(InvalidDigest):
        parse_digest(None)


def test_spec_grammar_is_wider_than_supported():
    # Well-formed per the OCI grammar, but unsupported by us.
    value = "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"
    assert DIGEST_RE.fullmatch(value)
    assert not is_valid_digest(value)


def test_sha256_digest():
    assert sha256_digest(b"") == "sha256:" + hashlib.sha256(b"").hexdigest()
    assert is_valid_digest(sha256_digest(b"hello"))


def test_hasher_digest_is_the_digest_of_what_was_streamed():
    hasher = hashlib.sha256()
    for chunk in (b"hel", b"lo"):
        hasher.update(chunk)
    assert hasher_digest(hasher) == sha256_digest(b"hello")
