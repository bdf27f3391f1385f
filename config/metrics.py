"""Prometheus metrics (prometheus-client).

Per-process counters (requests, bytes, upload durations) go through prometheus-client's
multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn's workers each write their own
files there; config/gunicorn.conf.py sets it up), so one scrape of any worker sums all of them.
Figures that live in the database or the broker (jobs by type and outcome, queue length,
storage used, GC runs) are read at scrape time by a collector, so they agree on every web node.
"""

from __future__ import annotations

import logging
import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "registry_http_requests",
    "HTTP requests by registry operation, method and status.",
    ["operation", "method", "status"],
)
BYTES_PUSHED = Counter("registry_bytes_pushed", "Blob bytes received by uploads.")
BYTES_PULLED = Counter("registry_bytes_pulled", "Blob and manifest bytes sent (or redirected to storage) by pulls.")
UPLOAD_SECONDS = Histogram(
    "registry_blob_upload_duration_seconds",
    "From the start of a blob upload to its verified completion.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
REQUEST_SECONDS = Histogram(
    "registry_http_request_duration_seconds",
    "Request handling time by registry operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# (url name, method) -> operation label; anything unnamed under /v2/ is "registry_other".
_OPERATIONS = {
    ("registry-base", None): "base",
    ("registry-catalog", None): "catalog",
    ("registry-tags", None): "tags_list",
    ("registry-referrers", None): "referrers",
    ("registry-token", None): "token",
    ("registry-manifest", "GET"): "manifest_pull",
    ("registry-manifest", "HEAD"): "manifest_head",
    ("registry-manifest", "PUT"): "manifest_push",
    ("registry-manifest", "DELETE"): "manifest_delete",
    ("registry-upload-start", None): "blob_upload_start",
    ("registry-upload", "PATCH"): "blob_upload_chunk",
    ("registry-upload", "PUT"): "blob_upload_complete",
    ("registry-upload", "GET"): "blob_upload_status",
    ("registry-upload", "DELETE"): "blob_upload_cancel",
    ("registry-blob", "GET"): "blob_pull",
    ("registry-blob", "HEAD"): "blob_head",
    ("registry-blob", "DELETE"): "blob_delete",
}
PULL_OPERATIONS = {"blob_pull", "manifest_pull"}
PUSH_OPERATIONS = {"blob_upload_start", "blob_upload_chunk", "blob_upload_complete"}


def operation_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    name = (match.url_name or "") if match else ""
    operation = _OPERATIONS.get((name, request.method)) or _OPERATIONS.get((name, None))
    if operation:
        return operation
    path = request.path
    if path.startswith("/v2/"):
        return "registry_other"
    if path.startswith(("/api/", "/artifactory/")):
        return "api"
    if path in ("/healthz", "/readyz", "/metrics"):
        return path[1:]
    return "dashboard"


class CountingStream:
    """Wraps a request body and counts what was read (a chunked PATCH has no Content-Length)."""

    def __init__(self, stream, request):
        self._stream = stream
        self._request = request

    def read(self, *args: int) -> bytes:
        data = self._stream.read(*args)
        self._request._registry_bytes_in = getattr(self._request, "_registry_bytes_in", 0) + len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._stream, name)


def observe_request(request, response, seconds: float) -> None:
    operation = operation_of(request)
    REQUESTS.labels(operation, request.method, str(response.status_code)).inc()
    REQUEST_SECONDS.labels(operation).observe(seconds)
    if operation in PUSH_OPERATIONS:
        received = getattr(request, "_registry_bytes_in", 0)
        if received:
            BYTES_PUSHED.inc(received)
    elif operation in PULL_OPERATIONS and request.method == "GET" and response.status_code in (200, 206, 307):
        sent = getattr(request, "_registry_bytes_out", None)
        if sent is None:
            try:
                sent = int(response.headers.get("Content-Length") or 0)
            except ValueError:
                sent = 0
        BYTES_PULLED.inc(sent)


def upload_finished(started) -> None:
    from django.utils import timezone

    UPLOAD_SECONDS.observe(max(0.0, (timezone.now() - started).total_seconds()))


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        try:
            observe_request(request, response, time.monotonic() - started)
        except Exception:  # noqa: BLE001 - metrics never break a request
            logger.exception("metrics: could not record a request")
        return response


class DatabaseCollector:
    """Job, queue, storage and GC figures read when scraped (the same on every node)."""

    def collect(self):
        from django.db.models import Count, Sum

        from repos.models import Blob, GcRun, PromotionJob

        jobs = GaugeMetricFamily(
            "registry_jobs", "Jobs by type and status (outcome for finished ones).", labels=["type", "status"]
        )
        for status, n in PromotionJob.objects.values_list("status").annotate(n=Count("pk")).order_by():
            jobs.add_metric(["promotion", status], n)
        try:
            from builds.models import BuildJob

            for status, n in BuildJob.objects.values_list("status").annotate(n=Count("pk")).order_by():
                jobs.add_metric(["build", status], n)
        except ImportError:
            pass
        for status, n in GcRun.objects.values_list("status").annotate(n=Count("pk")).order_by():
            jobs.add_metric(["gc", status], n)
        yield jobs

        queue = GaugeMetricFamily(
            "registry_queue_length", "Messages waiting in the broker, by queue.", labels=["queue"]
        )
        for name, length in queue_lengths().items():
            queue.add_metric([name], length)
        yield queue

        totals = Blob.objects.aggregate(n=Count("pk"), size=Sum("size"))
        yield GaugeMetricFamily("registry_storage_bytes", "Bytes of all stored blobs.", value=totals["size"] or 0)
        yield GaugeMetricFamily("registry_storage_blobs", "Number of stored blobs.", value=totals["n"] or 0)

        runs = CounterMetricFamily(
            "registry_gc_runs", "Garbage-collection runs by outcome.", labels=["outcome", "dry_run"]
        )
        for status, dry_run, n in GcRun.objects.values_list("status", "dry_run").annotate(n=Count("pk")).order_by():
            runs.add_metric([status, str(dry_run).lower()], n)
        yield runs
        reclaimed = GcRun.objects.filter(dry_run=False).aggregate(
            bytes=Sum("bytes_reclaimed"), blobs=Sum("blobs_removed"), manifests=Sum("manifests_removed")
        )
        yield CounterMetricFamily(
            "registry_gc_reclaimed_bytes", "Bytes garbage collection reclaimed.", value=reclaimed["bytes"] or 0
        )
        yield CounterMetricFamily(
            "registry_gc_removed_blobs", "Blobs garbage collection removed.", value=reclaimed["blobs"] or 0
        )
        yield CounterMetricFamily(
            "registry_gc_removed_manifests", "Manifests garbage collection removed.", value=reclaimed["manifests"] or 0
        )


def queue_lengths() -> dict[str, int]:
    """Waiting messages per queue the project uses, from Redis or the filesystem broker."""
    from django.conf import settings

    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    if getattr(settings, "BUILD_QUEUE", ""):
        queues.add(settings.BUILD_QUEUE)
    if settings.CELERY_BROKER_URL.startswith("redis"):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
        try:
            return {name: int(client.llen(name)) for name in sorted(queues)}
        finally:
            client.close()
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    # kombu's filesystem transport names each message <time>_<uuid>.<queue>.msg
    return {queue: sum(1 for n in names if n.endswith(f".{queue}.msg")) for queue in sorted(queues)}


def exposition() -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, BYTES_PUSHED, BYTES_PULLED, UPLOAD_SECONDS, REQUEST_SECONDS):
            registry.register(collector)
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
