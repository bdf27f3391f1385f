"""Upload staging inside the S3 bucket, so no web node keeps an upload's bytes on its own disk.

An upload is an S3 multipart upload at `<prefix>uploads/<id>/data` whose parts are all at least
`part_size` bytes (S3 wants >= 5 MiB for every part but the last), plus a tail object
`<prefix>uploads/<id>/tail` holding the bytes received after the last full part (clients send
chunks of any size). Completing uploads the tail as the last part (a server-side copy), completes
the multipart upload and copies the result to the blob's content address.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import relative_key
from .s3 import S3BlobStore, _is_missing
from .staging import validate_upload_id

MIN_PART_SIZE = 5 * 1024 * 1024


class BucketUploadStaging:
    def __init__(self, store: S3BlobStore, *, part_size: int = 8 * 1024 * 1024):
        if part_size < MIN_PART_SIZE:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.store = store
        self.client = store.client
        self.bucket = store.bucket
        self.part_size = part_size

    def key(self, upload_id: str, name: str) -> str:
        return f"{self.store.prefix}uploads/{validate_upload_id(upload_id)}/{name}"

    def start(self, upload_id: str) -> str:
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key(upload_id, "data"), ContentType="application/octet-stream"
        )
        return str(response["UploadId"])

    def upload_part(self, upload_id: str, multipart_id: str, number: int, data: bytes) -> str:
        response = self.client.upload_part(
            Bucket=self.bucket, Key=self.key(upload_id, "data"), UploadId=multipart_id, PartNumber=number, Body=data
        )
        return str(response["ETag"])

    def read_tail(self, upload_id: str, size: int) -> bytes:
        if size == 0:
            return b""
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(upload_id, "tail"))["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        if len(data) < size:
            raise OSError(f"upload {upload_id}: tail has {len(data)} bytes, expected {size}")
        return bytes(data[:size])

    def write_tail(self, upload_id: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(upload_id, "tail"), Body=data)

    def commit(
        self, *, upload_id: str, multipart_id: str, parts: list[dict[str, Any]], tail_size: int, digest: str
    ) -> bool:
        """Move the verified upload to the blob's address; False when the blob was already stored."""
        target = self.store.key(digest)
        if self.store.exists(digest):
            self.discard(upload_id, multipart_id)
            return False
        if not parts:
            # Everything is in the tail (small blobs): one server-side copy.
            if tail_size:
                source = self.key(upload_id, "tail")
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=target,
                    CopySource={"Bucket": self.bucket, "Key": source},
                    ContentType="application/octet-stream",
                    MetadataDirective="REPLACE",
                )
            else:
                self.client.put_object(Bucket=self.bucket, Key=target, Body=b"", ContentType="application/octet-stream")
            self.discard(upload_id, multipart_id)
            return True
        completed = [{"PartNumber": p["number"], "ETag": p["etag"]} for p in parts]
        if tail_size:
            copied = self.client.upload_part_copy(
                Bucket=self.bucket,
                Key=self.key(upload_id, "data"),
                UploadId=multipart_id,
                PartNumber=len(parts) + 1,
                CopySource={"Bucket": self.bucket, "Key": self.key(upload_id, "tail")},
            )
            completed.append({"PartNumber": len(parts) + 1, "ETag": copied["CopyPartResult"]["ETag"]})
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key(upload_id, "data"),
            UploadId=multipart_id,
            MultipartUpload={"Parts": completed},
        )
        # Managed copy: multipart server-side copy beyond 5 GB.
        self.client.copy(
            {"Bucket": self.bucket, "Key": self.key(upload_id, "data")},
            self.bucket,
            target,
            ExtraArgs={"ContentType": "application/octet-stream"},
            Config=self.store.transfer_config,
        )
        self.discard(upload_id, "")
        return True

    def discard(self, upload_id: str, multipart_id: str) -> None:
        if multipart_id:
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key(upload_id, "data"), UploadId=multipart_id
                )
            except ClientError as exc:
                if not _is_missing(exc) and exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
        self.client.delete_objects(
            Bucket=self.bucket,
            Delete={
                "Objects": [{"Key": self.key(upload_id, "tail")}, {"Key": self.key(upload_id, "data")}],
                "Quiet": True,
            },
        )

    def check_ready(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


__all__ = ["BucketUploadStaging", "MIN_PART_SIZE", "relative_key"]
