"""Build commands: lines stream as they come; a stop kills the whole tree, escaped sessions included."""

import os
import sys

from builds.procs import run_command
from tests.support.waiting import wait_until

PY = sys.executable

# Prints a line, starts a child in its own session (as daemons do) and a plain child, then waits.
SPAWNER = """
import os, subprocess, sys, time
print("started", flush=True)
escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("children", escaped.pid, plain.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_lines_stream_in_order_and_exit_status_is_kept():
    seen = []
    result = run_command(
        [
            PY,
            "-c",
            "import sys\nfor i in range(3): print('line', i, flush=True)\nprint('oops', file=sys.stderr)\nsys.exit(3)",
        ],
        on_line=seen.append,
        check=lambda: None,
    )
    assert result.returncode == 3 and result.stopped is None
    assert [s.strip() for s in seen] == ["line 0", "line 1", "line 2", "oops"]


def test_stop_kills_the_whole_tree():
    seen = []
    calls = {"n": 0}

    def check():
        calls["n"] += 1
        return "cancelled" if any(line.startswith("children") for line in seen) else None

    result = run_command([PY, "-c", SPAWNER], on_line=seen.append, check=check, interval=0.1)
    assert result.stopped == "cancelled" and result.returncode != 0
    children = [int(pid) for pid in next(line for line in seen if line.startswith("children")).split()[1:]]
    wait_until(
        lambda: not any(alive(pid) for pid in children), what="every child of the stopped command to end", timeout=10
    )


def test_command_sees_only_the_environment_it_is_given():
    seen = []
    run_command(
        [PY, "-c", "import os; print(sorted(os.environ))"],
        on_line=seen.append,
        check=lambda: None,
        env={"PATH": os.environ["PATH"], "ONLY": "1"},
    )
    assert "ONLY" in seen[0] and "SECRET_KEY" not in seen[0]
