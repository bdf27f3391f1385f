"""Helpers shared by the storage tests."""

from __future__ import annotations

MB = 1024 * 1024
S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region": "us-east-1"}


def make_s3_store(endpoint: str, bucket: str, **kwargs):
    from boto3.s3.transfer import TransferConfig

    from repos.storage.s3 import S3BlobStore

    # A small multipart threshold so the multipart path is exercised too.
    kwargs.setdefault(
        "transfer_config",
        TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2),
    )
    return S3BlobStore(bucket, endpoint_url=endpoint, **S3_CREDENTIALS, **kwargs)
