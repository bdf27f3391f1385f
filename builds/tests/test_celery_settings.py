"""Celery settings fit long builds: prefetch 1, late ack only on the idempotent tasks, a Redis visibility
timeout longer than the build time limit, the reconciler on beat; and provenance lookups."""

import json
import os
import subprocess
import sys
from pathlib import Path

from builds.models import BuildJob
from builds.selectors import build_for_digest

PROBE = """
import json, django
django.setup()
from django.conf import settings
from builds.tasks import reconcile_builds, run_build
from repos.tasks import expire_stale_uploads
print(json.dumps({
    "visibility": settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
    "default_acks_late": settings.CELERY_TASK_ACKS_LATE,
    "reject_on_worker_lost": settings.CELERY_TASK_REJECT_ON_WORKER_LOST,
    "run_acks_late": run_build.acks_late, "run_name": run_build.name, "run_time_limit": run_build.time_limit,
    "reconcile_acks_late": reconcile_builds.acks_late, "other_acks_late": expire_stale_uploads.acks_late,
    "beat": settings.CELERY_BEAT_SCHEDULE["reconcile-builds"],
}))
"""


def test_celery_settings_fit_long_builds(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATA_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "BUILD_TIME_LIMIT_SECONDS": "30000",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["visibility"] > 30000  # Redis never re-delivers a build that is still running
    assert probe["prefetch"] == 1 and probe["reject_on_worker_lost"] is True
    assert probe["default_acks_late"] is False and probe["other_acks_late"] is False
    assert probe["run_acks_late"] is True and probe["reconcile_acks_late"] is True  # both idempotent
    assert probe["run_name"] == "builds.run" and probe["run_time_limit"] > 30000
    assert probe["beat"]["task"] == "builds.reconcile"


def test_provenance_by_index_or_platform_digest(people, repositories, settings):
    local, target = repositories
    common = dict(
        requested_by=people.writer,
        repository=local,
        repository_key="docker-local",
        image_name="app",
        tags=["1.0"],
        platforms=["linux/amd64"],
        source_type="git",
        time_limit=60,
    )
    older = BuildJob.objects.create(
        status="succeeded",
        index_digest="sha256:" + "a" * 64,
        platform_digests={"linux/amd64": "sha256:" + "b" * 64},
        **common,
    )
    BuildJob.objects.create(status="failed", index_digest="sha256:" + "c" * 64, **common)
    assert build_for_digest(repository=local, digest="sha256:" + "a" * 64) == older
    assert build_for_digest(repository=local, digest="sha256:" + "b" * 64) == older
    assert build_for_digest(repository=local, digest="sha256:" + "c" * 64) is None  # failed builds produce nothing
    assert build_for_digest(repository=target, digest="sha256:" + "a" * 64) is None
