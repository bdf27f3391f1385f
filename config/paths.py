"""Where the project keeps its data: one answer for settings, the stack runner and manage.py."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = "var"
BROKER_FOLDERS = ("out", "processed", "control")


def data_dir(value: str | None = None) -> Path:
    """$DATA_DIR (or `value`), a relative path taken from the project root, not from the working
    directory: `DATA_DIR=./var` names the same directory from anywhere (default `<project>/var`)."""
    raw = value if value is not None else os.environ.get("DATA_DIR", "")
    path = Path(raw or DEFAULT_DATA_DIR).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return path.resolve()


def sqlite_path(directory: Path | None = None) -> Path:
    return (directory or data_dir()) / "db.sqlite3"


def broker_dir(directory: Path | None = None) -> Path:
    """The filesystem Celery transport's folders (used when REDIS_URL is unset)."""
    return (directory or data_dir()) / "broker"


def prepare_data_dir(directory: Path | None = None) -> Path:
    """Make $DATA_DIR and the folders read before anything writes them: the SQLite database's directory,
    the static files root and the filesystem broker's folders. Run by the commands that set the data up
    (`manage.py migrate`/`bootstrap`, the stack runner, a Celery worker or beat), never on import."""
    directory = directory or data_dir()
    (directory / "staticfiles").mkdir(parents=True, exist_ok=True)
    (directory / "run").mkdir(exist_ok=True)
    if not os.environ.get("REDIS_URL"):
        for folder in BROKER_FOLDERS:
            (broker_dir(directory) / folder).mkdir(parents=True, exist_ok=True)
    return directory
