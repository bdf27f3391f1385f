"""Where the project keeps its data: one answer for settings, the stack runner and manage.py."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = "var"


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
