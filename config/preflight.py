"""Before a management command runs: is there a database to run it on?

SQLite creates an empty file on the first connection, so `manage.py promote` run with the wrong
DATA_DIR would otherwise make a fresh database and die with `no such table`. Commands that set a
database up (migrate, bootstrap, ...) or need none skip the check; the others are refused with a
message that says where the database was looked for and how to make one.
"""

from __future__ import annotations

import os
import sqlite3

from config.paths import data_dir, prepare_data_dir, sqlite_path

# Commands that create or migrate the database, or that never touch it.
NO_DATABASE_NEEDED = frozenset(
    {
        "migrate",
        "bootstrap",
        "makemigrations",
        "squashmigrations",
        "sqlmigrate",
        "test",
        "help",
        "version",
        "check",
        "collectstatic",
        "findstatic",
        "diffsettings",
        "startapp",
        "startproject",
        "makemessages",
        "compilemessages",
        "optimizemigration",
        "spectacular",  # the OpenAPI schema is built from code alone
    }
)
MIGRATIONS_TABLE = "django_migrations"
# Commands that set the data up: they make $DATA_DIR and its folders before they run.
PREPARES_DATA = frozenset({"migrate", "bootstrap", "collectstatic"})


class NoDatabase(Exception):
    pass


def command_of(argv: list[str]) -> str | None:
    """The subcommand of a manage.py command line (None for `manage.py`, `--help`, `--version`)."""
    # Django reads the subcommand from argv[1] only.
    return argv[1] if len(argv) > 1 and not argv[1].startswith("-") else None


def _how_to_fix(command: str) -> str:
    return (
        f"Run `make run` (or `python manage.py migrate` and `python manage.py bootstrap`) first, or point "
        f"DATA_DIR or DATABASE_URL at the existing data, then run `python manage.py {command}` again."
    )


def _check_sqlite(command: str) -> None:
    path = sqlite_path()
    where = f"no database at {path} (DATA_DIR={data_dir()})"
    if not path.is_file():
        raise NoDatabase(f"{where}. {_how_to_fix(command)}")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (MIGRATIONS_TABLE,)
            ).fetchone()
    except sqlite3.Error as exc:
        raise NoDatabase(f"cannot open the database at {path}: {exc}. {_how_to_fix(command)}") from None
    if not found:
        raise NoDatabase(f"the database at {path} is empty (never migrated). {_how_to_fix(command)}")


def _check_configured(command: str) -> None:
    import django
    from django.db import DatabaseError, connection

    django.setup()
    name = connection.settings_dict.get("NAME")
    try:
        tables = connection.introspection.table_names()
    except DatabaseError as exc:
        raise NoDatabase(
            f"cannot reach the database {name!r} (DATABASE_URL): {str(exc).strip()}. {_how_to_fix(command)}"
        ) from None
    finally:
        connection.close()
    if MIGRATIONS_TABLE not in tables:
        raise NoDatabase(f"the database {name!r} (DATABASE_URL) is empty (never migrated). {_how_to_fix(command)}")


def require_database(argv: list[str]) -> None:
    """NoDatabase when the command needs a database and there is none (or an empty one)."""
    command = command_of(argv)
    if command is None or command in NO_DATABASE_NEEDED:
        return
    if os.environ.get("DATABASE_URL"):
        _check_configured(command)
    else:
        _check_sqlite(command)


def prepare_data(argv: list[str]) -> None:
    """Make $DATA_DIR (the SQLite file's directory, the broker's folders) for the commands that set it up."""
    if command_of(argv) in PREPARES_DATA:
        prepare_data_dir()
