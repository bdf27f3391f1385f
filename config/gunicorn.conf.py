"""Gunicorn settings for `make run` and the benchmarks (override with GUNICORN_CMD_ARGS)."""

import os

# WEB_BIND (e.g. unix:var/run/web.sock) when the stack's front proxy faces the clients.
bind = os.environ.get("WEB_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
# Threads keep a slow upload or pull from blocking other clients; hashing and file I/O release the GIL.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = 120
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG", "-") or None

# Prometheus multiprocess mode: each worker writes its metrics under this folder and /metrics sums
# them (config/metrics.py). Emptied when the server starts; a dead worker's live gauges are dropped.
_data_dir = os.environ.get("DATA_DIR") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var"
)
_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(_data_dir, "prometheus"))


def on_starting(server):
    import shutil

    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # What the worker loaded (Django, the apps, every view through the URL patterns) lives as long as the
    # worker: frozen, a full garbage collection no longer walks those 100,000-odd objects, which otherwise
    # added 50-150 ms to whichever request triggered one.
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URL modules and their views now)
    gc.freeze()
