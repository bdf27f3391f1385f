"""Blob store on S3 (or an S3-compatible service) using boto3 directly."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from .base import ALGORITHM, BlobNotFound, BlobStore, StoredBlob, digest_from_parts, relative_key

# HEAD errors have no body, so botocore reports the bare status as the code.
# NoSuchBucket is deliberately not "missing": a misconfigured bucket must fail.
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
MB = 1024 * 1024


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES


class S3BlobStore(BlobStore):
    """Blobs at ``<prefix>sha256/ab/<hex>`` in ``bucket``.

    ``prefix`` gets a trailing '/' when non-empty.  With ``endpoint_url``
    (MinIO, Ceph, moto...) path-style addressing is used and the newer
    default CRC checksums are only sent/validated when an operation requires
    them, for compatibility with S3 look-alikes.  Missing credentials fall
    back to boto3's usual chain (env vars, profile, instance role).
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        transfer_config: TransferConfig | None = None,
        client: Any = None,
    ):
        self.bucket = bucket
        prefix = (prefix or "").lstrip("/")
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.transfer_config = transfer_config or TransferConfig(
            multipart_threshold=64 * MB, multipart_chunksize=64 * MB, max_concurrency=4
        )
        if client is None:
            options = {"signature_version": "s3v4", "retries": {"mode": "standard"}}
            if endpoint_url:
                options.update(
                    s3={"addressing_style": "path"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region or None,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
                config=Config(**options),
            )
        self.client = client
        self.list_page_size: int | None = None  # None: the service default (1000)

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def key(self, digest: str) -> str:
        return self.prefix + relative_key(digest)

    def _head(self, digest: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self.key(digest))
            return head
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise

    # -- reading ----------------------------------------------------------
    def exists(self, digest: str) -> bool:
        return self._head(digest) is not None

    def size(self, digest: str) -> int | None:
        head = self._head(digest)
        return None if head is None else int(head["ContentLength"])

    def open(self, digest: str) -> BinaryIO:
        """The object's botocore StreamingBody (read/close/iter_chunks)."""
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self.key(digest))
        except ClientError as exc:
            if _is_missing(exc):
                raise BlobNotFound(digest) from None
            raise
        body: BinaryIO = resp["Body"]
        return body

    def local_path(self, digest: str) -> str | None:
        relative_key(digest)
        return None

    def presigned_url(self, digest: str, *, expires: int = 300) -> str | None:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.key(digest)},
                ExpiresIn=int(expires),
            )
        )

    def iter_digests(self) -> Iterator[str]:
        base = self.prefix + ALGORITHM + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        paging = {"PageSize": self.list_page_size} if self.list_page_size else {}
        pages = paginator.paginate(Bucket=self.bucket, Prefix=base, PaginationConfig=paging)
        for page in pages:
            for obj in page.get("Contents", ()):
                parts = obj["Key"][len(base) :].split("/")
                if len(parts) == 2:
                    digest = digest_from_parts(*parts)
                    if digest is not None:
                        yield digest

    def iter_entries(self) -> Iterator[StoredBlob]:
        base = self.prefix + ALGORITHM + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        paging = {"PageSize": self.list_page_size} if self.list_page_size else {}
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base, PaginationConfig=paging):
            for obj in page.get("Contents", ()):
                parts = obj["Key"][len(base) :].split("/")
                digest = digest_from_parts(*parts) if len(parts) == 2 else None
                if digest is not None:
                    yield StoredBlob(digest, int(obj["Size"]), obj["LastModified"].timestamp())

    # -- writing ----------------------------------------------------------
    def commit(self, *, staged_path: str, digest: str) -> bool:
        """Upload the staged file unless the object exists, then remove it.

        Two racing commits of the same digest may both upload (and both
        return True); the bytes are identical, so that is harmless.  If the
        upload fails (boto3 raises ``S3UploadFailedError``, not ClientError),
        the staged file is left in place for the caller to retry or remove.
        """
        key = self.key(digest)
        if self._head(digest) is not None:
            Path(staged_path).unlink(missing_ok=True)
            return False
        self.client.upload_file(
            staged_path,
            self.bucket,
            key,
            ExtraArgs={"ContentType": "application/octet-stream"},
            Config=self.transfer_config,
        )
        Path(staged_path).unlink(missing_ok=True)
        return True

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(digest))

    def delete_many(self, digests: Iterable[str]) -> None:
        keys = [self.key(d) for d in digests]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"S3 refused to delete {len(response['Errors'])} blob(s): {response['Errors'][:3]}")
