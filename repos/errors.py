"""One error hierarchy for the registry domain, carrying the OCI distribution error codes.

Services raise these; `/v2/` renders them as the spec's JSON envelope and the REST API as
DRF errors, each in one place.
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    code = "UNKNOWN"
    status = 500
    message = "unknown error"

    def __init__(self, message: str | None = None, *, detail: Any = None, headers: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.detail = detail
        self.headers = headers or {}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "detail": self.detail}


def _error(name: str, code: str, status: int, message: str) -> type[RegistryError]:
    return type(name, (RegistryError,), {"code": code, "status": status, "message": message})


BlobUnknown = _error("BlobUnknown", "BLOB_UNKNOWN", 404, "blob unknown to registry")
BlobUploadInvalid = _error("BlobUploadInvalid", "BLOB_UPLOAD_INVALID", 400, "blob upload invalid")
BlobUploadUnknown = _error("BlobUploadUnknown", "BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry")
DigestInvalid = _error("DigestInvalid", "DIGEST_INVALID", 400, "provided digest did not match uploaded content")
ManifestBlobUnknown = _error(
    "ManifestBlobUnknown", "MANIFEST_BLOB_UNKNOWN", 400, "manifest references a manifest or blob unknown to registry"
)
ManifestInvalid = _error("ManifestInvalid", "MANIFEST_INVALID", 400, "manifest invalid")
ManifestUnknown = _error("ManifestUnknown", "MANIFEST_UNKNOWN", 404, "manifest unknown to registry")
NameInvalid = _error("NameInvalid", "NAME_INVALID", 400, "invalid repository name")
NameUnknown = _error("NameUnknown", "NAME_UNKNOWN", 404, "repository name not known to registry")
SizeInvalid = _error("SizeInvalid", "SIZE_INVALID", 400, "provided length did not match content length")
ManifestTooLarge = _error("ManifestTooLarge", "SIZE_INVALID", 413, "manifest exceeds the size limit")
# The OCI spec has no tag code: a tag outside its grammar makes the pushed manifest invalid.
TagInvalid = _error("TagInvalid", "MANIFEST_INVALID", 400, "invalid tag")
Unauthorized = _error("Unauthorized", "UNAUTHORIZED", 401, "authentication required")
Denied = _error("Denied", "DENIED", 403, "requested access to the resource is denied")
Unsupported = _error("Unsupported", "UNSUPPORTED", 405, "the operation is unsupported")
ParameterInvalid = _error(
    "ParameterInvalid", "UNSUPPORTED", 400, "the operation was unsupported due to an invalid set of parameters"
)
RangeInvalid = _error("RangeInvalid", "BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable")
# No spec code says "the upstream of a pull-through cache failed": UNKNOWN with 502, the detail says why.
UpstreamUnavailable = _error("UpstreamUnavailable", "UNKNOWN", 502, "the upstream registry is unavailable")
TooManyRequests = _error("TooManyRequests", "TOOMANYREQUESTS", 429, "too many requests")
