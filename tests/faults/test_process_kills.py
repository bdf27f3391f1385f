"""kill -9 of every process of the stack, one at a time, under the stack runner (`make run`): the web server
keeps answering, what died is started again, and every promotion asked for ends succeeded (none lost,
none stuck queued or running). Default broker (filesystem transport, threads pool) here; the Redis broker
with a prefork pool in test_redis_faults.py."""

import signal

import pytest

from conftest import require_tool
from tests.faults.harness import running_stack
from tests.support.locks import image_row_locked, require_postgresql, wait_for_lock_waiter

pytestmark = pytest.mark.e2e


def _replaced(stack, role: str, old: int):
    return lambda: (pids := stack.roles()[role]) and old not in pids and pids


def test_each_process_killed_then_jobs_still_run(tmp_path):
    require_tool("skopeo")
    with running_stack(tmp_path) as stack:
        roles = stack.wait_ready()
        stack.push_image()
        jobs = {"before": stack.promote("before")}
        assert stack.follow(jobs["before"])["status"] == "succeeded"
        for role in ("worker", "beat", "web-worker", "web", "front"):
            victim = stack.roles()[role][0]
            stack.kill(victim)
            stack.wait_for(_replaced(stack, role, victim), f"a new {role} process")
            assert stack.web_up() or stack.wait_for(stack.web_up, "the web server")
            stack.wait_ready()
            jobs[f"after-{role}"] = stack.promote(f"after-{role}")
        # A worker alive but taking no jobs (stopped): found by its heartbeat, killed and started again.
        stalled = stack.roles()["worker"][0]
        stack.kill(stalled, signal.SIGSTOP)
        jobs["during-stall"] = stack.promote("during-stall")
        stack.wait_for(_replaced(stack, "worker", stalled), "the stalled worker to be replaced", timeout=120)
        assert "the worker stopped taking jobs" in stack.log()
        for tag, url in jobs.items():
            job = stack.follow(url, timeout=180)
            assert job["status"] == "succeeded", (tag, job)
            assert stack.target_tag_exists(tag)
        assert roles["worker"][0] not in stack.roles()["worker"]
        assert stack.process.poll() is None  # the runner never gave up


def test_busy_worker_killed_mid_promotion(tmp_path):
    require_tool("skopeo")
    with running_stack(tmp_path) as stack:
        database_url = require_postgresql(stack.env.get("DATABASE_URL"))
        stack.wait_ready()
        stack.push_image()
        # The source image locked by the test: the run waits for it inside its transaction, so the kill lands there.
        with image_row_locked(database_url, repository="docker-local", image="faults"):
            url = stack.promote("busy")
            wait_for_lock_waiter(database_url, what="the promotion to block inside its transaction")
            assert stack.job(url)["status"] == "running"
            victim = stack.roles()["worker"][0]
            stack.kill(victim)
            stack.wait_for(_replaced(stack, "worker", victim), "a new worker")
        job = stack.follow(url, timeout=180)
        assert job["status"] == "succeeded" and job["attempts"] >= 2, job
        assert stack.target_tag_exists("busy")
