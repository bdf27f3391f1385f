"""Content-addressed blob storage and upload staging.

Use :func:`get_blob_store` / :func:`get_upload_staging`; both are built once
from Django settings (``BLOB_STORAGE`` and ``UPLOAD_STAGING_ROOT``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .base import BlobNotFound, BlobStore, Readable, StoredBlob  # noqa: F401 - StoredBlob is part of this package's interface
from .staging import UploadStaging

if TYPE_CHECKING:
    from .s3_staging import BucketUploadStaging

__all__ = [
    "BlobNotFound",
    "BlobStore",
    "Readable",
    "UploadStaging",
    "build_blob_store",
    "get_blob_store",
    "get_bucket_staging",
    "get_upload_staging",
    "reset_storage_cache",
]


def build_blob_store(config: dict[str, Any]) -> BlobStore:
    """Build a backend from a ``BLOB_STORAGE``-style dict."""
    backend = str(config.get("BACKEND", "filesystem")).lower()
    if backend == "filesystem":
        from .filesystem import FilesystemBlobStore

        if not config.get("ROOT"):
            raise ValueError("BLOB_STORAGE['ROOT'] is required for the filesystem backend")
        return FilesystemBlobStore(config["ROOT"])
    if backend == "s3":
        from .s3 import S3BlobStore

        if not config.get("BUCKET"):
            raise ValueError("BLOB_STORAGE['BUCKET'] is required for the s3 backend")
        return S3BlobStore(
            config["BUCKET"],
            endpoint_url=config.get("ENDPOINT_URL"),
            region=config.get("REGION"),
            access_key=config.get("ACCESS_KEY"),
            secret_key=config.get("SECRET_KEY"),
            prefix=config.get("PREFIX") or "",
        )
    raise ValueError(f"unknown BLOB_STORAGE backend: {backend!r}")


@functools.cache
def get_blob_store() -> BlobStore:
    from django.conf import settings

    return build_blob_store(settings.BLOB_STORAGE)


@functools.cache
def get_upload_staging() -> UploadStaging:
    from django.conf import settings

    return UploadStaging(settings.UPLOAD_STAGING_ROOT)


def reset_storage_cache() -> None:
    """Forget the cached instances (for tests / settings overrides)."""
    get_blob_store.cache_clear()
    get_upload_staging.cache_clear()
    get_bucket_staging.cache_clear()


@functools.cache
def get_bucket_staging() -> BucketUploadStaging | None:
    """Upload staging in the S3 bucket, or None when uploads stage on the filesystem."""
    from django.conf import settings

    store = get_blob_store()
    if getattr(settings, "UPLOAD_STAGING", "auto") == "filesystem" or not hasattr(store, "bucket"):
        return None
    from .s3_staging import BucketUploadStaging

    return BucketUploadStaging(store, part_size=settings.UPLOAD_PART_SIZE)  # type: ignore[arg-type]  # an S3 store here
