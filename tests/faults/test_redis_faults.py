"""The Redis broker with a prefork pool, under the stack runner: kill -9 of every pool process (idle, and
busy in a promotion), of the worker's main process, pool processes that stop answering, and Redis
restarted (without persistence) while jobs wait in it. Every promotion asked for ends succeeded: none
lost, none stuck queued or running. A private redis-server on a free port, never the shared one."""

import signal

import pytest

from conftest import require_tool
from tests.faults.harness import running_stack
from tests.support.locks import image_row_locked, require_postgresql, wait_for_lock_waiter
from tests.support.network import PrivateRedis

pytestmark = pytest.mark.e2e


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(require_tool("redis-server"), tmp_path)
    server.start()
    yield server
    server.stop()


def _pool_replaced(stack, old: set[int]):
    return lambda: (pool := set(stack.roles()["pool"])) and len(pool) == 2 and not pool & old


def test_pool_processes_worker_and_redis_faults(tmp_path, private_redis):
    require_tool("skopeo")
    env = {"REDIS_URL": private_redis.url, "WORKER_POOL": "prefork"}
    with running_stack(tmp_path, extra_env=env) as stack:
        database_url = require_postgresql(stack.env.get("DATABASE_URL"))
        stack.wait_ready()
        stack.push_image()
        jobs = {}
        # Each idle pool process in turn.
        for index in range(2):
            pool = stack.roles()["pool"]
            victim = pool[index]
            stack.kill(victim)
            stack.wait_for(
                lambda: victim not in stack.roles()["pool"] and len(stack.roles()["pool"]) == 2,
                "a replacement pool process",
            )
            jobs[f"idle-{index}"] = url = stack.promote(f"idle-{index}")
            assert stack.follow(url)["status"] == "succeeded"
        # Every pool process while one of them is inside a promotion's transaction (waiting for the source
        # image, which the test holds locked).
        with image_row_locked(database_url, repository="docker-local", image="faults"):
            jobs["busy"] = url = stack.promote("busy")
            wait_for_lock_waiter(database_url, what="a pool process inside the promotion's transaction")
            assert stack.job(url)["status"] == "running"
            old = set(stack.roles()["pool"])
            for pid in old:
                stack.kill(pid)
            stack.wait_for(_pool_replaced(stack, old), "a new pool")
        # The worker's main process.
        main = stack.roles()["worker"][0]
        stack.kill(main)
        stack.wait_for(lambda: (w := stack.roles()["worker"]) and main not in w, "a new worker")
        stack.wait_ready()
        jobs["after-main"] = stack.promote("after-main")
        # Pool processes that stop answering while the main process still beats: found by the ping.
        stack.wait_ready()
        main, frozen = stack.roles()["worker"][0], stack.roles()["pool"]
        for pid in frozen:
            stack.kill(pid, signal.SIGSTOP)
        jobs["frozen"] = stack.promote("frozen")
        stack.wait_for(lambda: main not in stack.roles()["worker"], "the frozen worker to be replaced", 120)
        assert "a ping waited" in stack.log()
        stack.wait_ready()
        for tag, url in jobs.items():
            assert stack.follow(url, timeout=180)["status"] == "succeeded", tag
        # Redis restarted, without persistence, while three promotions wait in it (the worker is stopped).
        worker = stack.roles()["worker"][0]
        stack.kill(worker, signal.SIGSTOP)
        waiting = {f"redis-{n}": stack.promote(f"redis-{n}") for n in range(3)}
        # The messages wait in Redis (but one: a stopped worker's pending BRPOP may already have popped it) ...
        assert private_redis.client().llen(stack.env["CELERY_QUEUE"]) >= 2
        before = private_redis.client().info("server")["run_id"]
        private_redis.stop()
        private_redis.start()
        # ... and now they are gone: a new server without persistence. (Counting the queue here would race the
        # promotion reconciler, which may already have re-sent a stale job into the new server.)
        assert private_redis.client().info("server")["run_id"] != before
        stack.kill(worker, signal.SIGCONT)
        # Redis down while a promotion is asked for: the job is still recorded, and runs later.
        private_redis.stop()
        waiting["redis-down"] = stack.promote("redis-down")
        assert stack.job(waiting["redis-down"])["status"] == "queued"
        private_redis.start()
        for tag, url in waiting.items():
            job = stack.follow(url, timeout=180)
            assert job["status"] == "succeeded", (tag, job)
        for tag in [*jobs, *waiting]:
            assert stack.target_tag_exists(tag), tag
        assert stack.process.poll() is None
