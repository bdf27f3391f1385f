"""/healthz (the process answers), /readyz (database, broker and storage reachable), /metrics."""

from __future__ import annotations

import hmac
import logging
import os
import uuid

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    checks = {"database": _check_database, "broker": _check_broker, "storage": _check_storage}
    results, failing = {}, []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure makes the node unready, named
            results[name] = (
                f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
            )
            failing.append(name)
    if failing:
        logger.warning("not ready: %s", ", ".join(f"{name} ({results[name]})" for name in failing))
        return JsonResponse({"status": "unavailable", "failing": failing, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})


@never_cache
def metrics(request):
    from config.metrics import exposition

    token = settings.METRICS_TOKEN
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse("metrics need the bearer token (METRICS_TOKEN)\n", status=401, content_type="text/plain")

    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        connection.close()  # a broken connection is not reused; the next request reconnects
        raise


def _check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
        return
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
    if not os.access(folder, os.W_OK):
        raise OSError(f"broker folder {folder} is not writable")


def _check_storage() -> None:
    from repos.storage import get_blob_store, get_upload_staging
    from repos.storage.filesystem import FilesystemBlobStore

    store = get_blob_store()
    if isinstance(store, FilesystemBlobStore):
        os.makedirs(store.root, exist_ok=True)
        probe = os.path.join(store.root, f".ready-{uuid.uuid4().hex}")
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    else:
        from repos.storage.s3 import S3BlobStore  # boto3 is imported only when the store is a bucket

        if not isinstance(store, S3BlobStore):
            raise TypeError(f"no readiness probe for {store!r}")
        store.client.head_bucket(Bucket=store.bucket)
    staging = get_upload_staging()
    staging_check = getattr(staging, "check_ready", None)
    if staging_check is not None:
        staging_check()
