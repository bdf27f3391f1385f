"""The errors of the repos domain (registry, repositories, promotion), carrying the OCI distribution codes.

Services raise these; `/v2/` renders them as the spec's JSON envelope (repos/registry/views/base.py) and
the REST API in its own envelope (config/api_errors.py), each in one place.
"""

from __future__ import annotations

from config.errors import DomainError


class RegistryError(DomainError):
    """An error of the repos domain; the subclasses below are the OCI distribution spec's codes."""


class BlobUnknown(RegistryError):
    code = "BLOB_UNKNOWN"
    status = 404
    message = "blob unknown to registry"


class BlobUploadInvalid(RegistryError):
    code = "BLOB_UPLOAD_INVALID"
    status = 400
    message = "blob upload invalid"


class BlobUploadUnknown(RegistryError):
    code = "BLOB_UPLOAD_UNKNOWN"
    status = 404
    message = "blob upload unknown to registry"


class DigestInvalid(RegistryError):
    code = "DIGEST_INVALID"
    status = 400
    message = "provided digest did not match uploaded content"


class ManifestBlobUnknown(RegistryError):
    code = "MANIFEST_BLOB_UNKNOWN"
    status = 400
    message = "manifest references a manifest or blob unknown to registry"


class ManifestInvalid(RegistryError):
    code = "MANIFEST_INVALID"
    status = 400
    message = "manifest invalid"


class ManifestUnknown(RegistryError):
    code = "MANIFEST_UNKNOWN"
    status = 404
    message = "manifest unknown to registry"


class NameInvalid(RegistryError):
    code = "NAME_INVALID"
    status = 400
    message = "invalid repository name"


class NameUnknown(RegistryError):
    code = "NAME_UNKNOWN"
    status = 404
    message = "repository name not known to registry"


class SizeInvalid(RegistryError):
    code = "SIZE_INVALID"
    status = 400
    message = "provided length did not match content length"


class ManifestTooLarge(RegistryError):
    code = "SIZE_INVALID"
    status = 413
    message = "manifest exceeds the size limit"


class TagInvalid(RegistryError):
    """The OCI spec has no tag code: a tag outside its grammar makes the pushed manifest invalid."""

    code = "MANIFEST_INVALID"
    status = 400
    message = "invalid tag"


class Unauthorized(RegistryError):
    code = "UNAUTHORIZED"
    status = 401
    message = "authentication required"


class Denied(RegistryError):
    code = "DENIED"
    status = 403
    message = "requested access to the resource is denied"


class Unsupported(RegistryError):
    code = "UNSUPPORTED"
    status = 405
    message = "the operation is unsupported"


class ParameterInvalid(RegistryError):
    code = "UNSUPPORTED"
    status = 400
    message = "the operation was unsupported due to an invalid set of parameters"


class RangeInvalid(RegistryError):
    code = "BLOB_UPLOAD_INVALID"
    status = 416
    message = "requested range not satisfiable"


class UpstreamUnavailable(RegistryError):
    """No spec code says "the upstream of a pull-through cache failed": UNKNOWN with 502, the detail says why."""

    code = "UNKNOWN"
    status = 502
    message = "the upstream registry is unavailable"


class TooManyRequests(RegistryError):
    code = "TOOMANYREQUESTS"
    status = 429
    message = "too many requests"
