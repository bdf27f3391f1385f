#!/usr/bin/env python3
"""Django's command-line utility, usable from a checkout with any Python on the PATH.

- When the interpreter running this is not the project's virtualenv (`.venv`, made by `make run`)
  and that virtualenv exists, the command runs again with `.venv/bin/python`.
- A command that needs a database and finds none says so and exits with status 2, rather than
  creating an empty SQLite file (config/preflight.py).
"""

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
VENV = PROJECT_ROOT / ".venv"
REEXEC_MARK = "MANAGE_PY_REEXEC"


def _use_project_venv() -> None:
    venv_python = VENV / "bin" / "python"
    if not venv_python.exists() or os.environ.get(REEXEC_MARK):
        return
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    os.environ[REEXEC_MARK] = "1"  # never loops, even with an odd venv layout
    os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606


def main():
    _use_project_venv()
    sys.path.insert(0, str(PROJECT_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise SystemExit(
            f"Django is not importable by {sys.executable} and there is no {VENV}: run `make run` "
            f"(or `make install`) in {PROJECT_ROOT} first. ({exc})"
        ) from None
    from config.preflight import NoDatabase, prepare_data, require_database

    prepare_data(sys.argv)
    try:
        require_database(sys.argv)
    except NoDatabase as exc:
        print(f"manage.py: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
