"""`python manage.py …` from the checkout, as the README writes it, run as real subprocesses.

- run by a Python that cannot import Django (a bare virtualenv here), manage.py re-executes itself with
  the project's `.venv/bin/python`;
- a relative DATA_DIR is taken from the project root, not from the working directory;
- a command that finds no database says so and exits non-zero, creating nothing; migrate and bootstrap
  create the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from config.paths import PROJECT_ROOT, data_dir

MANAGE = str(PROJECT_ROOT / "manage.py")
SEED_INDEX = (
    "from repos.models import Repository; from repos.tests.promotion.content import push_index; "
    "push_index(Repository.objects.get(key='docker-local'), 'multiarch-image', 'tag')"
)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """A Python with no third-party package at all, like a shell's python3 outside the venv."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import django"], capture_output=True)
    assert probe.returncode != 0, "the bare interpreter must not see Django"
    return python


def _env(**overrides) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DATA_DIR", "VIRTUAL_ENV")
        and not k.startswith("S3_")
    }
    env.update(overrides)
    return env


def manage(python: str, *args: str, cwd: Path = PROJECT_ROOT, env: dict, check: bool = True):
    result = subprocess.run([python, MANAGE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def set_up(bare_python, tmp_path_factory) -> Path:
    """A data directory migrated and bootstrapped with the bare Python, as `make run` leaves it."""
    data = tmp_path_factory.mktemp("checkout") / "data"
    env = _env(DATA_DIR=str(data), ADMIN_PASSWORD=uuid.uuid4().hex)
    manage(bare_python, "migrate", "--noinput", env=env)
    assert (data / "db.sqlite3").is_file()
    manage(bare_python, "bootstrap", env=env)
    return data


def test_promote_as_documented_with_a_python_that_has_no_django(bare_python, set_up):
    env = _env(DATA_DIR=str(set_up))
    manage(bare_python, "shell", "-c", SEED_INDEX, env=env)
    result = manage(
        bare_python,
        "promote",
        "multiarch-image",
        "docker-local",
        "docker-target",
        "--copy",
        "--source-tag",
        "tag",
        env=env,
    )
    assert "no such table" not in result.stderr
    listed = manage(
        bare_python,
        "shell",
        "-c",
        "from repos.models import Tag; print(sorted(Tag.objects.filter("
        "image__repository__key='docker-target').values_list('name', flat=True)))",
        env=env,
    )
    assert listed.stdout.strip().splitlines()[-1] == "['tag', 'tag-linux-amd64', 'tag-linux-arm64']"


def test_a_relative_data_dir_is_taken_from_the_project_root(bare_python, set_up, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    relative = os.path.relpath(set_up, PROJECT_ROOT)
    result = manage(bare_python, "repository", "list", cwd=elsewhere, env=_env(DATA_DIR=relative))
    assert "docker-local" in result.stdout
    assert list(elsewhere.iterdir()) == []  # no fresh ./var (nor anything else) in the working directory


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert data_dir("var") == data_dir("./var") == PROJECT_ROOT / "var"
    assert data_dir("") == PROJECT_ROOT / "var"
    assert data_dir(str(tmp_path / "abs")) == tmp_path / "abs"


def test_a_command_without_a_database_says_so_and_creates_nothing(bare_python, tmp_path):
    data = tmp_path / "no-such-data"
    result = manage(
        bare_python,
        "promote",
        "multiarch-image",
        "docker-local",
        "docker-target",
        "--copy",
        env=_env(DATA_DIR=str(data)),
        check=False,
    )
    assert result.returncode == 2
    assert f"no database at {data / 'db.sqlite3'}" in result.stderr
    assert "make run" in result.stderr and "Traceback" not in result.stderr
    assert not data.exists()


def test_an_empty_sqlite_file_is_not_a_database(bare_python, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "db.sqlite3").touch()
    result = manage(bare_python, "repository", "list", env=_env(DATA_DIR=str(data)), check=False)
    assert result.returncode == 2
    assert "is empty (never migrated)" in result.stderr
    assert (data / "db.sqlite3").stat().st_size == 0


def test_an_unreachable_database_url_says_so(bare_python, tmp_path):
    missing = f"postgres://postgres@127.0.0.1:1/no_such_db_{uuid.uuid4().hex[:6]}"
    result = manage(
        bare_python, "repository", "list", check=False, env=_env(DATA_DIR=str(tmp_path / "data"), DATABASE_URL=missing)
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr and "Traceback" not in result.stderr


def test_migrate_creates_the_database(bare_python, tmp_path):
    data = tmp_path / "fresh"
    manage(bare_python, "migrate", "--noinput", env=_env(DATA_DIR=str(data)))
    result = manage(bare_python, "showmigrations", "repos", env=_env(DATA_DIR=str(data)))
    assert "[X] 0001_initial" in result.stdout
