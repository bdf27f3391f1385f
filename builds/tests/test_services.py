"""Services: the reconciler, the build's registry credential, the log stores."""

import base64
import json
import os
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken, RepositoryGrant
from accounts.permissions import READ, WRITE, user_can
from builds.credentials import (
    auth_file_write,
    build_credential_issue,
    build_credential_revoke,
    build_credentials_revoke_all,
    build_pull_credential_issue,
)
from builds.logstore import FileLogStore, RedisLogStore
from builds.models import BuildJob, BuildLog
from builds.services.cleanup import workdirs_sweep
from builds.services.jobs import BuildRequest, build_create
from builds.services.logs import LogWriter
from builds.services.reconcile import builds_reconcile
from conftest import IN_CI


@pytest.fixture
def job(people, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    request = BuildRequest(
        repository="docker-local", image="app", platforms=["linux/amd64"], git_url="git://127.0.0.1:9/app.git"
    )
    return build_create(user=people.writer, request=request, enqueue=False)


def test_reconciler_fails_builds_whose_worker_stopped_beating(job):
    old = timezone.now() - timedelta(minutes=10)
    BuildJob.objects.filter(pk=job.pk).update(status="building", started=old, heartbeat=old, worker="w1@host")
    minted = build_credential_issue(job=job)  # the dead worker could not revoke it
    LogWriter(job.pk).line("step 1")
    LogWriter(job.pk).flush()
    outcome = builds_reconcile(stale_after=60)
    job.refresh_from_db()
    assert outcome["failed"] == [job.pk]
    assert job.status == "failed" and "stopped answering" in job.error and job.finished
    archived = BuildLog.objects.get(job=job)
    assert "stopped answering" in archived.text.splitlines()[-1]
    assert not ApiToken.objects.get(pk=minted.token.pk).is_active
    assert builds_reconcile(stale_after=60) == {"failed": [], "cancelled": [], "resent": []}  # nothing twice


def test_reconciler_leaves_live_builds_and_honours_cancel(job, people, settings):
    BuildJob.objects.filter(pk=job.pk).update(status="pushing", heartbeat=timezone.now(), started=timezone.now())
    assert builds_reconcile(stale_after=60)["failed"] == []
    old = timezone.now() - timedelta(minutes=10)
    BuildJob.objects.filter(pk=job.pk).update(heartbeat=old, cancel_requested=True)
    assert builds_reconcile(stale_after=60)["cancelled"] == [job.pk]
    assert BuildJob.objects.get(pk=job.pk).status == "cancelled"


def test_reconciler_resends_queued_builds_whose_message_may_be_lost(job, django_capture_on_commit_callbacks):
    BuildJob.objects.filter(pk=job.pk).update(enqueued=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as sent:
        outcome = builds_reconcile(stale_after=60, requeue_after=600)
    assert outcome["resent"] == [job.pk] and len(sent) == 1
    assert BuildJob.objects.get(pk=job.pk).status == "queued"


def test_credential_is_the_requesters_scoped_and_revocable(job, people, repositories, tmp_path):
    RepositoryGrant.objects.create(repository=repositories[1], user=people.writer, permission="write")
    credential = build_credential_issue(job=job)
    token = ApiToken.objects.get(pk=credential.token.pk)
    assert credential.username == "writer" and token.user == people.writer
    assert token.permissions == [WRITE] and [r.key for r in token.repositories.all()] == ["docker-local"]
    assert token.expires_at <= timezone.now() + timedelta(seconds=job.time_limit + 601)
    acting = type(people.writer).objects.get(pk=people.writer.pk)
    acting.acting_token = token
    assert user_can(acting, repositories[0], WRITE)
    assert user_can(people.writer, repositories[1], WRITE) and not user_can(acting, repositories[1], READ)
    path = tmp_path / "docker" / "config.json"
    auth_file_write(path, registry_host="127.0.0.1:8000", credential=credential)
    auth = json.loads(path.read_text())["auths"]["127.0.0.1:8000"]["auth"]
    assert base64.b64decode(auth).decode() == f"writer:{credential.secret}"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    build_credential_revoke(credential=credential)
    assert not ApiToken.objects.get(pk=token.pk).is_active


def test_pull_credential_reads_whatever_its_owner_reads_and_writes_nothing(job, people, repositories):
    local, target = repositories
    RepositoryGrant.objects.create(repository=target, user=people.writer, permission="read")
    credential = build_pull_credential_issue(job=job)
    token = ApiToken.objects.get(pk=credential.token.pk)
    assert token.user == people.writer and token.permissions == [READ] and not token.repositories.exists()
    acting = type(people.writer).objects.get(pk=people.writer.pk)
    acting.acting_token = token
    assert user_can(acting, local, READ) and user_can(acting, target, READ)  # a FROM image in any of them
    assert not user_can(acting, local, WRITE)
    # The reconciler revokes both of a lost build's tokens.
    push = build_credential_issue(job=job)
    assert build_credentials_revoke_all(job=job) == 2
    assert not ApiToken.objects.filter(pk__in=[token.pk, push.token.pk], revoked_at__isnull=True).exists()


def test_file_log_store(tmp_path):
    store = FileLogStore(tmp_path)
    store.append(7, ["a", "b\r\n", "c" * 5000])
    store.append(7, ["d"])
    assert store.read(7, 0)[:2] == ["a", "b"] and store.read(7, 3) == ["d"]
    assert len(store.read(7, 2)[0]) < 4200 and store.count(7) == 4
    store.drop(7)
    assert store.read(7) == []


def test_redis_log_store():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    store = RedisLogStore(url)
    try:
        store.client.ping()
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {url}: {exc}")
        pytest.skip(f"Redis is not reachable at {url}")
    build_id = int(uuid.uuid4().int % 10**9)
    try:
        store.append(build_id, ["one", "two\n", "three"])
        assert store.read(build_id, 1) == ["two", "three"] and store.count(build_id) == 3
        assert 0 < store.client.ttl(store._key(build_id))
    finally:
        store.drop(build_id)
    assert store.read(build_id) == []


def test_sweep_removes_only_workdirs_of_ended_builds(job, tmp_path):
    root = tmp_path / "work"
    old = time.time() - 3600
    dirs = {}
    for name, status in (("ended", "failed"), ("active", "building")):
        other = BuildJob.objects.create(
            **{f.name: getattr(job, f.name) for f in BuildJob._meta.fields if f.name not in ("id", "status")},
            status=status,
        )
        dirs[name] = root / f"build-{other.pk}-abc"
    dirs["unknown"] = root / "build-999999-abc"
    dirs["young"] = root / f"build-{BuildJob.objects.get(status='failed').pk}-young"
    dirs["unrelated"] = root / "something-else"
    for name, path in dirs.items():
        (path / "sub").mkdir(parents=True)
        if name != "young":
            os.utime(path, (old, old))
    removed = workdirs_sweep(root=root)
    assert sorted(removed) == sorted([dirs["ended"].name, dirs["unknown"].name])
    assert all(dirs[n].exists() for n in ("active", "young", "unrelated"))
