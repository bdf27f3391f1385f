"""Smoke tests: the definition (REST, settings page), runs queued by pushes, recording and judging per platform
(real host processes: exit codes, a killed time-out, an output mismatch), the `smoke-test` webhook, the promotion
rule, "run again" and the tag page card. The real Docker + QEMU runs are in e2e/test_smoke_emulation.py."""

from __future__ import annotations

import os
from contextlib import contextmanager

from django.test import Client

from accounts.services.grants import grant_create
from insights.models import SmokeTest, SmokeTestResult, SmokeTestRun, Webhook, WebhookDelivery
from insights.services.smoke_process import command_run
from insights.services.smoke_runs import smoke_test_run_execute
from insights.services.smoke_tests import smoke_test_request
from repos.models import Repository, Tag
from repos.promotion.domain import PromotionRequest
from repos.promotion.planning import promotion_plan

AMD, ARM = "linux/amd64", "linux/arm64"
# Fails where the runner says the platform is arm64 (the host runner passes the platform in the environment).
FAILS_ON_ARM = ["sh", "-c", 'echo "app 1.0 on $SMOKE_PLATFORM"; test "$SMOKE_PLATFORM" != linux/arm64']


class HostRunner:
    """Runs the test's command as a process of this machine instead of inside the platform image: the
    recording, judging and time limit are exercised for real without Docker."""

    @contextmanager
    def session(self, run, *, platforms: int):
        yield self

    def execute(self, *, platform: str, digest: str, definition: dict):
        env = {**os.environ, "SMOKE_PLATFORM": platform}
        return command_run(definition["command"], time_limit=definition["time_limit_seconds"], env=env)


def define(client, key: str = "docker-local", **fields):
    body = {"command": FAILS_ON_ARM, **fields}
    return client.put(f"/api/repositories/{key}/smoke-test/", body, content_type="application/json")


def run_once(test_key: str, tag: Tag) -> SmokeTestRun | None:
    test = SmokeTest.objects.get(repository__key=test_key)
    run = smoke_test_request(
        repository=tag.image.repository,
        image=tag.image,
        tag=tag.name,
        digest=tag.manifest.digest,
        trigger="manual",
        actor_id=None,
        test=test,
    )
    return smoke_test_run_execute(run_id=run.pk, runner=HostRunner())


def tag_of(key: str, image: str, name: str) -> Tag:
    return Tag.objects.select_related("image__repository", "manifest").get(
        image__repository__key=key, image__name=image, name=name
    )


def test_definition_through_the_rest_api_with_field_errors(admin_client, stages):
    assert admin_client.get("/api/repositories/docker-local/smoke-test/").status_code == 404
    response = define(admin_client, output_pattern="^app", time_limit_seconds=30, required_for_promotion=True)
    assert response.status_code == 200, response.content
    body = admin_client.get("/api/repositories/docker-local/smoke-test/").json()
    assert body["command"] == FAILS_ON_ARM and body["expected_exit_code"] == 0
    assert (
        body["time_limit_seconds"] == 30 and body["required_for_promotion"] is True and len(body["fingerprint"]) == 64
    )

    bad = define(admin_client, command=[], output_pattern="(", expected_exit_code=300, time_limit_seconds=0)
    assert bad.status_code == 400
    [error] = bad.json()["errors"]
    assert error["code"] == "INVALID" and set(error["detail"]) >= {
        "command",
        "expected_exit_code",
        "time_limit_seconds",
    }
    [error] = define(admin_client, output_pattern="(").json()["errors"]
    assert "regular expression" in str(error["detail"]["output_pattern"])

    schema = admin_client.get("/api/schema/").content.decode()
    assert "/api/repositories/{key}/smoke-test/" in schema and "/api/smoke-tests/" in schema

    assert admin_client.delete("/api/repositories/docker-local/smoke-test/").status_code == 204
    assert not SmokeTest.objects.exists()


def test_only_repository_admins_define_it(admin_client, stages, django_user_model):
    admin = django_user_model.objects.get(username="dash-admin")
    writer = django_user_model.objects.create_user(username="writer", password=None)
    grant_create(actor=admin, repository=stages[0], permission="write", user=writer)
    client = Client()
    client.force_login(writer)
    assert define(client).status_code == 403
    assert define(client, key="docker-target").status_code == 404  # not readable: not found
    assert not SmokeTest.objects.exists()


def test_settings_page_edits_the_test(admin_client, stages):
    page = admin_client.get("/repositories/docker-local/-/settings/").content.decode()
    assert 'action="/repositories/docker-local/-/smoke-test/"' in page
    response = admin_client.post(
        "/repositories/docker-local/-/smoke-test/",
        {"command": "/app --version", "expected_exit_code": 0, "time_limit_seconds": 20, "output_pattern": "^app"},
    )
    assert response.status_code == 302
    test = SmokeTest.objects.get(repository__key="docker-local")
    assert test.command == ["/app", "--version"] and test.required_for_promotion is False
    invalid = admin_client.post(
        "/repositories/docker-local/-/smoke-test/",
        {"command": "[1, 2]", "expected_exit_code": 0, "time_limit_seconds": 20},
    )
    assert invalid.status_code == 200 and "a non-empty list of strings" in invalid.content.decode()


def test_a_push_queues_a_run_of_the_repository_test(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="0.9", platforms=[AMD, ARM])
    assert not SmokeTestRun.objects.exists()  # no test defined yet
    define(admin_client)
    digest = push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD, ARM], attestation=True)
    run = SmokeTestRun.objects.get()
    assert (run.tag, run.digest, run.trigger, run.status) == ("1.0", digest, "push", "queued")
    assert run.requested_by.username == "dash-admin" and run.definition["command"] == FAILS_ON_ARM


def test_results_are_recorded_per_platform_and_the_webhook_names_each_outcome(
    admin_client, stages, push_index, settings
):
    settings.UPSTREAM_ALLOW_PRIVATE = True
    Webhook.objects.create(url="http://127.0.0.1:9/hook", events=["smoke-test"], secret="s" * 8, repository=stages[0])
    define(admin_client, output_pattern=r"^app 1\.0")
    digest = push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD, ARM], attestation=True)
    run = smoke_test_run_execute(run_id=SmokeTestRun.objects.get().pk, runner=HostRunner())
    assert run.status == "failed" and run.finished_at is not None
    results = {r.platform: r for r in run.results.all()}
    assert set(results) == {AMD, ARM}  # the attestation is not a platform
    assert results[AMD].status == "passed" and results[AMD].reason == "" and results[AMD].exit_code == 0
    assert results[AMD].output == "app 1.0 on linux/amd64" and results[AMD].duration_ms is not None
    assert (results[ARM].status, results[ARM].reason, results[ARM].exit_code) == ("failed", "exit-code", 1)
    assert results[ARM].detail == "exited with 1, expected 0"

    delivery = WebhookDelivery.objects.get(event="smoke-test")
    payload = delivery.payload
    assert (payload["repository"], payload["image"], payload["tag"], payload["digest"]) == (
        "docker-local",
        "webapp",
        "1.0",
        digest,
    )
    assert payload["platforms"] == [AMD, ARM] and payload["smoke_test"]["status"] == "failed"
    assert payload["smoke_test"]["results"][ARM]["reason"] == "exit-code"
    assert payload["smoke_test"]["results"][AMD]["status"] == "passed"

    # A redelivered broker message finds the run taken: nothing runs twice.
    assert smoke_test_run_execute(run_id=run.pk, runner=HostRunner()) is None
    assert SmokeTestResult.objects.count() == 2


def test_time_limit_kills_the_command(admin_client, stages, push_index):
    define(admin_client, command=["sh", "-c", "echo started; sleep 60"], time_limit_seconds=1)
    push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD])
    run = smoke_test_run_execute(run_id=SmokeTestRun.objects.get().pk, runner=HostRunner())
    result = run.results.get()
    assert (result.status, result.reason, result.exit_code) == ("failed", "timeout", None)
    assert result.output == "started" and "killed" in result.detail
    assert result.duration_ms < 30_000  # killed at the limit, not left to finish its 60 s


def test_output_pattern_mismatch_and_a_program_that_cannot_start(admin_client, stages, push_index):
    define(admin_client, command=["sh", "-c", "echo version 1.0"], output_pattern=r"^version 2\.")
    push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD])
    result = smoke_test_run_execute(run_id=SmokeTestRun.objects.get().pk, runner=HostRunner()).results.get()
    assert (result.status, result.reason, result.exit_code) == ("failed", "output-mismatch", 0)
    assert result.output == "version 1.0"

    define(admin_client, command=["/no/such/program"])
    push_index(admin_client, name="docker-local/webapp", tag="1.1", platforms=[AMD])
    run = SmokeTestRun.objects.get(tag="1.1")
    result = smoke_test_run_execute(run_id=run.pk, runner=HostRunner()).results.get()
    assert (result.status, result.reason) == ("failed", "could-not-start")


def test_promotion_rule_names_failing_and_untested_platforms_until_every_platform_passed(
    admin_client, stages, push_index, django_user_model
):
    admin = django_user_model.objects.get(username="dash-admin")
    define(admin_client)  # docker-local: the same test, not required there
    define(admin_client, key="docker-target", required_for_promotion=True)
    push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD, ARM])
    request = PromotionRequest(source_key="docker-local", source_image="webapp", target_key="docker-target", copy=True)

    refusals = promotion_plan(request=request, user=admin).refusals
    assert [r.rule for r in refusals] == ["smoke-test"]
    assert refusals[0].detail["untested"] == [AMD, ARM] and "not yet tested on linux/amd64, linux/arm64" in (
        refusals[0].message
    )

    run_once("docker-local", tag_of("docker-local", "webapp", "1.0"))
    refusal = promotion_plan(request=request, user=admin).refusals[0]
    assert refusal.rule == "smoke-test" and refusal.detail["failing"] == {ARM: "exited with 1, expected 0"}
    assert refusal.detail["untested"] == [] and "fails on linux/arm64" in refusal.message

    # The fixed image: the same test passes on both platforms (the fingerprint matches the target's).
    SmokeTest.objects.filter(repository__key="docker-local").update(command=["sh", "-c", "true"])
    SmokeTest.objects.filter(repository__key="docker-target").update(command=["sh", "-c", "true"])
    run_once("docker-local", tag_of("docker-local", "webapp", "1.0"))
    assert promotion_plan(request=request, user=admin).allowed

    # Another definition in the target: the results of the old one do not count.
    SmokeTest.objects.filter(repository__key="docker-target").update(time_limit_seconds=5)
    assert promotion_plan(request=request, user=admin).refusals[0].detail["untested"] == [AMD, ARM]


def test_run_again_needs_write_access_and_a_test(admin_client, stages, push_index, django_user_model):
    push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD])
    body = {"repository": "docker-local", "image": "webapp", "tag": "1.0"}
    refused = admin_client.post("/api/smoke-tests/", body, content_type="application/json")
    assert refused.status_code == 400 and "no smoke test" in refused.content.decode()
    define(admin_client, key="docker-target")
    response = admin_client.post(
        "/api/smoke-tests/", {**body, "test_repository": "docker-target"}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    run = SmokeTestRun.objects.get(pk=response.json()["id"])
    assert (
        run.test_repository.key == "docker-target" and run.trigger == "manual" and run.repository.key == "docker-local"
    )

    admin = django_user_model.objects.get(username="dash-admin")
    reader = django_user_model.objects.create_user(username="reader", password=None)
    grant_create(actor=admin, repository=stages[0], permission="read", user=reader)
    client = Client()
    client.force_login(reader)
    assert client.post("/api/smoke-tests/", body, content_type="application/json").status_code == 403
    listed = client.get("/api/smoke-tests/", {"repository": "docker-local", "image": "webapp", "tag": "1.0"}).json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    assert client.get("/api/smoke-tests/", {"status": "nope"}).status_code == 400


def test_tag_page_shows_results_per_platform_and_run_again(admin_client, stages, push_index):
    define(admin_client)
    push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD, ARM])
    smoke_test_run_execute(run_id=SmokeTestRun.objects.get().pk, runner=HostRunner())
    page = admin_client.get("/repositories/docker-local/webapp/-/tags/1.0/").content.decode()
    assert 'id="smoke-heading"' in page and 'data-platform="linux/arm64"' in page
    assert "exited with 1, expected 0" in page and "app 1.0 on linux/amd64" in page
    assert 'action="/smoke-tests/run/"' in page
    response = admin_client.post(
        "/smoke-tests/run/", {"repository": "docker-local", "image": "webapp", "tag": "1.0", "next": "/"}
    )
    assert response.status_code == 302 and SmokeTestRun.objects.filter(trigger="manual").count() == 1


def test_smoke_tests_are_for_local_repositories(admin_client, stages):
    Repository.objects.create(key="hub", kind=Repository.Kind.REMOTE)
    assert define(admin_client, key="hub").status_code == 400


def test_docker_own_failures_are_could_not_start_not_exit_codes():
    from insights.services.smoke_docker import _start_failure
    from insights.services.smoke_process import Outcome

    def outcome(code, text):
        return Outcome(exit_code=code, output=text, duration_ms=5)

    missing = 'docker: Error response from daemon: OCI runtime create failed: exec: "/app": no such file'
    assert "OCI runtime" in _start_failure(outcome(127, missing))
    assert _start_failure(outcome(125, "docker: invalid reference format.")) == "docker: invalid reference format."
    assert "no binfmt/QEMU handler" in _start_failure(outcome(1, "exec /app: exec format error"))
    assert _start_failure(outcome(127, "sh: nope: not found")) == ""  # the program's own 127
    assert _start_failure(outcome(1, "app 1.0 on aarch64")) == ""


def test_reconciler_ends_runs_whose_worker_vanished_and_resends_lost_ones(admin_client, stages, push_index, settings):
    from datetime import timedelta

    from django.utils import timezone

    from insights.services.smoke_runs import smoke_runs_reconcile

    settings.SMOKE_TEST_RESEND_SECONDS = 3600
    define(admin_client, time_limit_seconds=10)
    push_index(admin_client, name="docker-local/webapp", tag="1.0", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.1", platforms=[AMD])
    stuck, lost = SmokeTestRun.objects.order_by("pk")
    SmokeTestRun.objects.filter(pk=stuck.pk).update(status="running", started_at=timezone.now())
    for platform in (AMD, ARM):
        SmokeTestResult.objects.create(run=stuck, platform=platform, manifest_digest="sha256:x", fingerprint="f")

    allowance = 2 * (10 + settings.SMOKE_TEST_PULL_SECONDS) + settings.SMOKE_TEST_STALE_MARGIN_SECONDS
    soon = timezone.now() + timedelta(seconds=allowance - 30)
    assert smoke_runs_reconcile(now=soon) == {"stale": [], "resent": []}  # still within its time: left alone

    later = timezone.now() + timedelta(seconds=max(allowance, settings.SMOKE_TEST_RESEND_SECONDS) + 30)
    assert smoke_runs_reconcile(now=later) == {"stale": [stuck.pk], "resent": [lost.pk]}
    stuck.refresh_from_db()
    assert stuck.status == "error" and "worker running it stopped" in stuck.error
    lost.refresh_from_db()
    assert lost.status == "queued" and lost.sent_at is not None
    # Sent again just now: the next pass leaves it until SMOKE_TEST_RESEND_SECONDS more have gone by.
    assert smoke_runs_reconcile(now=lost.sent_at + timedelta(seconds=1))["resent"] == []


def test_only_the_last_lines_are_kept():
    from insights.services.smoke_process import STORED_OUTPUT_CHARS, last_lines

    assert last_lines("".join(f"line {i}\n" for i in range(100)), 20).splitlines() == [
        f"line {i}" for i in range(80, 100)
    ]
    assert len(last_lines("x" * 100_000, 20)) == STORED_OUTPUT_CHARS
