"""A test run's temporary data directory (config/settings_test.py) outlives a run killed before its end: the next
run removes those whose process is gone, and leaves alone those of runs still going."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import DATA_DIR_PREFIX, remove_stale_data_dirs


def _data_dir_of(pid: int) -> Path:
    directory = Path(tempfile.gettempdir()) / f"{DATA_DIR_PREFIX}{pid}"
    (directory / "blobs").mkdir(parents=True)
    return directory


def test_a_killed_runs_data_dir_goes_and_a_running_ones_stays():
    finished = subprocess.Popen(["true"])
    finished.wait()
    running = subprocess.Popen(["cat"], stdin=subprocess.PIPE)
    stale, alive = _data_dir_of(finished.pid), _data_dir_of(running.pid)
    try:
        remove_stale_data_dirs()
        assert not stale.exists()
        assert alive.exists()
    finally:
        running.communicate()
        shutil.rmtree(alive, ignore_errors=True)
