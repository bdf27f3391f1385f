"""get_blob_store / get_upload_staging read Django settings lazily and cache."""

from __future__ import annotations

import types

import django.conf
import pytest

from repos import storage
from repos.storage.filesystem import FilesystemBlobStore
from repos.storage.s3 import S3BlobStore
from repos.storage.staging import UploadStaging


@pytest.fixture
def fake_settings(monkeypatch, tmp_path):
    fake = types.SimpleNamespace(
        BLOB_STORAGE={"BACKEND": "filesystem", "ROOT": str(tmp_path / "blobs")},
        UPLOAD_STAGING_ROOT=str(tmp_path / "uploads"),
    )
    monkeypatch.setattr(django.conf, "settings", fake)
    storage.reset_storage_cache()
    yield fake
    storage.reset_storage_cache()


def test_filesystem_from_settings_is_cached(fake_settings, tmp_path):
    store = storage.get_blob_store()
    assert isinstance(store, FilesystemBlobStore)
    assert store.root == str(tmp_path / "blobs")
    assert storage.get_blob_store() is store
    staging = storage.get_upload_staging()
    assert isinstance(staging, UploadStaging)
    assert staging.root == str(tmp_path / "uploads")
    assert storage.get_upload_staging() is staging

    fake_settings.BLOB_STORAGE = {"BACKEND": "filesystem", "ROOT": str(tmp_path / "other")}
    assert storage.get_blob_store() is store
    storage.reset_storage_cache()
    assert storage.get_blob_store().root == str(tmp_path / "other")


def test_s3_from_settings(fake_settings):
    fake_settings.BLOB_STORAGE = {
        "BACKEND": "s3",
        "BUCKET": "registry",
        "ENDPOINT_URL": "http://127.0.0.1:9",
        "REGION": "eu-west-1",
        "ACCESS_KEY": "ak",
        "SECRET_KEY": "sk",
        "PREFIX": "blobs",
    }
    store = storage.get_blob_store()
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "registry" and store.prefix == "blobs/"
    assert store.client.meta.region_name == "eu-west-1"
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "config",
    [{"BACKEND": "ftp"}, {"BACKEND": "filesystem"}, {"BACKEND": "s3", "BUCKET": ""}],
)
def test_bad_config(config):
    with pytest.raises(ValueError):
        storage.build_blob_store(config)
