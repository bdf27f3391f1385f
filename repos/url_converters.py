"""Path converters for dashboard URLs, matching exactly what the OCI grammar in `repos/oci/` accepts."""

from __future__ import annotations

from repos.oci.digests import SUPPORTED_DIGEST_PATTERN
from repos.oci.names import KEY_PATTERN, NAME_PATTERN, TAG_PATTERN


class _Converter:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class RepositoryKeyConverter(_Converter):
    regex = KEY_PATTERN


class ImageNameConverter(_Converter):
    # Holds slashes; a name component never is a lone "-", so "/-/" ends the name.
    regex = NAME_PATTERN


class TagConverter(_Converter):
    regex = TAG_PATTERN


class DigestConverter(_Converter):
    regex = SUPPORTED_DIGEST_PATTERN


CONVERTERS = {
    "repo_key": RepositoryKeyConverter,
    "image_name": ImageNameConverter,
    "tag": TagConverter,
    "digest": DigestConverter,
}
