"""kill -9 of one idle Celery pool process, N times per configuration: does the worker still run jobs?

1. A bare worker (no stack runner), concurrency 2: prefork on the filesystem broker (the old default), threads on
   the filesystem broker (the new default: no pool processes, so its only process is killed), prefork on Redis.
   After the kill, 4 no-op tasks are sent; "wedged" means they did not all run within 20 s.
2. Under the stack runner (`python -m config.stack`, ping every 1 s, stall after 10 s): prefork on the filesystem
   broker, where the kill can wedge the pool, and the default; after the kill a real promotion is asked for and
   followed. "ran" means it succeeded within 120 s (the watchdog restarting a wedged worker, the reconciler
   re-sending a lost message).

Usage: .venv/bin/python bench/worker_kills.py [--tries 6] [--write-results]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import descendants  # noqa: E402

BIN = Path(sys.executable).parent
SEND = (
    "import django; django.setup(); from config.celery_app import app; "
    "[app.send_task('celery.accumulate', args=(i,)) for i in range(4)]"
)


def _bare_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """A Celery worker of concurrency 2 in its own session, appending to `log_path`."""
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        cwd=ROOT,
        env=env,
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def bare_try(pool: str, redis_url: str | None, rng: random.Random) -> bool:
    """True when the worker still ran 4 jobs after one of its pool processes (or itself) was killed."""
    with tempfile.TemporaryDirectory(prefix="worker-kill-") as data:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env.update(
            DATA_DIR=data,
            DJANGO_SETTINGS_MODULE="config.settings",
            WORKER_POOL=pool,
            CELERY_QUEUE=f"kill-{uuid.uuid4().hex[:8]}",
        )
        if redis_url:
            env["REDIS_URL"] = redis_url
        log_path = Path(data) / "worker.log"
        worker = _bare_worker(env, log_path)
        try:
            deadline = time.monotonic() + 60
            while b"ready." not in log_path.read_bytes() and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)
            children = [pid for pid, _ in descendants(worker.pid)]
            victim = rng.choice(children) if children else worker.pid
            os.kill(victim, 9)
            if victim == worker.pid:
                worker.wait()  # threads pool: the worker itself died; what a supervisor restarts
                worker = _bare_worker(env, log_path)
            time.sleep(2)
            subprocess.run([sys.executable, "-c", SEND], cwd=ROOT, env=env, check=True, capture_output=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if log_path.read_bytes().count(b"celery.accumulate") >= 8:  # 4 received + 4 succeeded
                    return True
                time.sleep(0.3)
            return False
        finally:
            os.killpg(worker.pid, 9)
            worker.wait()


def stack_try(pool: str, rng: random.Random) -> tuple[bool, bool]:
    """(ran, restarted by the watchdog) for one kill under the stack runner."""
    from tests.faults.harness import running_stack

    with (
        tempfile.TemporaryDirectory(prefix="stack-kill-") as tmp,
        running_stack(Path(tmp), extra_env={"WORKER_POOL": pool}) as stack,
    ):
        stack.wait_ready()
        stack.push_image()
        stack.wait_ready()
        before = [line for line in stack.log().splitlines() if line.startswith("stack: ") and "serving" not in line]
        if before:
            print("unexpected before the kill:", before, flush=True)
        roles = stack.roles()
        stack.kill(rng.choice(roles["pool"] or roles["worker"]))
        time.sleep(2)
        url = stack.promote("after-kill")
        try:
            ran = stack.follow(url, timeout=120)["status"] == "succeeded"
        except AssertionError:
            ran = False
        return ran, "stopped taking jobs" in stack.log()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=6)
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--stack-only", action="store_true", help="only the tries under the stack runner")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    rng = random.Random(12)
    rows = []
    bare = (
        ()
        if args.stack_only
        else (
            ("prefork, filesystem broker (old default)", "prefork", None),
            ("threads, filesystem broker (new default)", "threads", None),
            ("prefork, Redis broker", "prefork", args.redis_url),
        )
    )
    for label, pool, redis_url in bare:
        wedged = sum(not bare_try(pool, redis_url, rng) for _ in range(args.tries))
        rows.append(f"| bare worker: {label} | {args.tries} | {wedged} wedged | – |")
        print(rows[-1], flush=True)
    for label, pool in (("prefork, filesystem broker", "prefork"), ("threads, filesystem broker", "threads")):
        outcomes = [stack_try(pool, rng) for _ in range(args.tries)]
        ran = sum(ran for ran, _ in outcomes)
        restarted = sum(restarted for _, restarted in outcomes)
        rows.append(
            f"| stack runner: {label} | {args.tries} | {ran} promotions ran | {restarted} restarted by the watchdog |"
        )
        print(rows[-1], flush=True)
    report = "\n".join(
        [
            "## Worker: an idle pool process killed",
            "",
            f"`bench/worker_kills.py --tries {args.tries}`: kill -9 of one idle Celery pool process (the worker itself "
            "when the pool has no processes), concurrency 2, SQLite. A bare worker gets 4 no-op tasks afterwards "
            "(wedged: not all ran within 20 s); under the stack runner a real promotion is asked for (ran: succeeded "
            "within 120 s; ping every 1 s, stall after 10 s).",
            "",
            "| configuration | tries | outcome | watchdog |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(report)
    if args.write_results:
        from bench.promotion import write_section

        write_section(ROOT / "bench" / "RESULTS.md", report, heading="## Worker: an idle pool process killed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
