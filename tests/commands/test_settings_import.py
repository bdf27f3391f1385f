"""Importing the settings creates nothing: no $DATA_DIR, no secret key file, no broker folders. The secret key is
generated on first use (mode 0600) and read back by every later process; the commands that set the data up make
the folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.paths import PROJECT_ROOT

READ_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.ALLOWED_HOSTS, s.STATIC_ROOT, s.CELERY_BROKER_TRANSPORT_OPTIONS, s.BLOB_STORAGE)"
)
READ_SECRET_KEY = "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)"


def _python(code: str, data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_DIR")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATA_DIR=str(data_dir))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_importing_the_settings_creates_nothing(tmp_path):
    data_dir = tmp_path / "absent"
    _python(READ_SETTINGS, data_dir)
    assert not data_dir.exists()


def test_the_secret_key_is_made_on_first_use_and_kept(tmp_path):
    data_dir = tmp_path / "data"
    first = _python(READ_SECRET_KEY, data_dir)
    key_file = data_dir / "secret_key"
    assert key_file.read_text() == first and len(first) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert _python(READ_SECRET_KEY, data_dir) == first


def test_migrate_makes_the_data_folders(tmp_path):
    data_dir = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DATA_DIR")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATA_DIR=str(data_dir))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    assert (data_dir / "db.sqlite3").is_file()
    assert all((data_dir / "broker" / folder).is_dir() for folder in ("out", "processed", "control"))
    assert (data_dir / "staticfiles").is_dir()
