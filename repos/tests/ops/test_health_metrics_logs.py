"""/healthz, /readyz, /metrics, request ids and log hygiene, in-process."""

import json
import logging

import pytest

from config.request_log import JsonFormatter, RedactSecretsFilter, RequestIdFilter, redact
from tests.support.content import digest_of
from tests.support.factories import RepositoryFactory


@pytest.fixture
def registry_repo(db, blob_storage):
    return RepositoryFactory(key="docker-local")


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_database_broker_and_storage(db, client, blob_storage):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}


def test_readyz_names_the_failing_part(db, client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"] and body["checks"]["database"] == "ok"
    assert "Connection" in body["checks"]["broker"]


def test_metrics_count_a_push_and_bytes(registry_repo, admin_client):
    data = b"metric bytes" * 10
    before = _sample(admin_client, 'registry_http_requests_total{method="PUT",operation="manifest_push",status="201"}')
    pushed_before = _sample(admin_client, "registry_bytes_pushed_total")
    assert (
        admin_client.post(
            f"/v2/docker-local/app/blobs/uploads/?digest={digest_of(data)}",
            data=data,
            content_type="application/octet-stream",
        ).status_code
        == 201
    )
    from tests.support import content as f

    config = f.image_config()
    admin_client.post(
        f"/v2/docker-local/app/blobs/uploads/?digest={digest_of(config)}",
        data=config,
        content_type="application/octet-stream",
    )
    raw = f.image_manifest(config=config, layers=[data])
    put = admin_client.put(
        "/v2/docker-local/app/manifests/1.0",
        data=raw,
        content_type="application/vnd.docker.distribution.manifest.v2+json",
    )
    assert put.status_code == 201
    assert admin_client.get(f"/v2/docker-local/app/blobs/{digest_of(data)}").status_code == 200
    assert (
        _sample(admin_client, 'registry_http_requests_total{method="PUT",operation="manifest_push",status="201"}')
        == before + 1
    )
    assert _sample(admin_client, "registry_bytes_pushed_total") == pushed_before + len(data) + len(config)
    text = admin_client.get("/metrics").content.decode()
    for name in (
        "registry_bytes_pulled_total",
        "registry_blob_upload_duration_seconds_count",
        "registry_jobs",
        "registry_queue_length",
        "registry_storage_bytes",
        "registry_gc_runs",
    ):
        assert name in text


def _sample(client, name: str) -> float:
    for line in client.get("/metrics").content.decode().splitlines():
        if line.startswith(name + " ") or (line.startswith(name) and "{" not in name and line[len(name)] == " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_can_require_a_token(db, client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").status_code == 200


def test_every_response_carries_a_request_id(db, client):
    response = client.get("/healthz")
    assert len(response.headers["X-Request-ID"]) == 32
    echoed = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")
    assert echoed.headers["X-Request-ID"] == "lb-1234.abc"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert hostile.headers["X-Request-ID"] != "bad id\nwith newline"


def test_log_lines_carry_the_request_id_and_no_secret(db, client, caplog):
    handler_filters = [RequestIdFilter(), RedactSecretsFilter()]
    caplog.handler.addFilter(handler_filters[0])
    caplog.handler.addFilter(handler_filters[1])
    with caplog.at_level(logging.INFO, logger="registry.requests"):
        response = client.get("/healthz?token=abcdef123456", HTTP_X_REQUEST_ID="req-42")
    lines = [r for r in caplog.records if r.name == "registry.requests"]
    assert lines and lines[-1].request_id == "req-42" == response.headers["X-Request-ID"]
    assert "abcdef123456" not in caplog.text


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl", "eyJhbGciOiJFUzI1NiJ9"),
        ("login with password=hunter2hunter2 failed", "hunter2hunter2"),
        ("redis://user:topsecretpw@127.0.0.1:6379/0", "topsecretpw"),
        ("header Basic YWRtaW46c2VjcmV0cGFzc3dvcmQ= given", "YWRtaW46c2VjcmV0cGFzc3dvcmQ="),
        ('{"token": "mta_0123456789abcdef"}', "mta_0123456789abcdef"),
        ("S3_SECRET_KEY=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI"),
    ],
)
def test_secrets_are_masked(text, secret):
    assert secret not in redact(text)


def test_json_log_format():
    record = logging.LogRecord(
        "repos", logging.WARNING, __file__, 1, "pushed %s with token=%s", ("app", "abc123456"), None
    )
    RequestIdFilter().filter(record)
    RedactSecretsFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "WARNING" and entry["logger"] == "repos" and entry["request_id"] == "-"
    assert entry["message"] == "pushed app with token=[REDACTED]"
