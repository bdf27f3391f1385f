"""Fixtures shared by every test package."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
# Fixtures every test package may use: the permission world (users, teams, grants, tokens), cheap passwords, and
# one Chromium per module (`browser`).
pytest_plugins = ["tests.support.world", "tests.support.browser"]


DATA_DIR_PREFIX = "registry-tests-"


def pytest_configure(config):
    """The run's data directory (config/settings_test.py), made here and removed at the end if it is the
    run's own temporary one; those of earlier runs that were killed before their end go first."""
    from django.conf import settings

    from config.paths import prepare_data_dir

    remove_stale_data_dirs()
    prepare_data_dir(Path(settings.DATA_DIR))


def pytest_unconfigure(config):
    from django.conf import settings

    directory = Path(settings.DATA_DIR)
    if directory.parent == Path(tempfile.gettempdir()) and directory.name == f"{DATA_DIR_PREFIX}{os.getpid()}":
        shutil.rmtree(directory, ignore_errors=True)


def remove_stale_data_dirs() -> None:
    """Remove the temporary data directories of test runs whose process is gone (killed by a timeout, say)."""
    for directory in Path(tempfile.gettempdir()).glob(f"{DATA_DIR_PREFIX}*"):
        pid = directory.name.removeprefix(DATA_DIR_PREFIX)
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True


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
