"""Fixtures shared by every test package."""

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(name: str) -> str:
    """The tool's path; a missing tool fails the test in CI and skips it elsewhere."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (see .ci/run for the packages the tests need)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def blob_storage(settings, tmp_path):
    """Filesystem blob storage and upload staging in a fresh temporary directory."""
    from repos.storage import reset_storage_cache

    settings.BLOB_STORAGE = {"BACKEND": "filesystem", "ROOT": str(tmp_path / "blobs")}
    settings.UPLOAD_STAGING_ROOT = str(tmp_path / "uploads")
    reset_storage_cache()
    yield tmp_path
    reset_storage_cache()
