"""The Dockerfile and docker-compose.yml describe the whole stack (they cannot be built here: no base
image pulls; CI with network access can run `docker compose config` and `docker build`)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def test_compose_runs_postgres_redis_s3_web_worker_and_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "web", "worker", "beat"} <= set(services)
    for name in ("web", "worker", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
        assert env["S3_BUCKET"] and env["S3_ENDPOINT_URL"] == "http://minio:9000"
        assert services[name]["build"] == "."
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["web"]["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp")


def test_dockerfile_builds_from_a_pinned_python_and_runs_gunicorn():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim-bookworm" in text
    assert "pip install -r requirements.txt" in text and "USER registry" in text
    assert 'CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]' in text
    assert ".venv" in (ROOT / ".dockerignore").read_text()
