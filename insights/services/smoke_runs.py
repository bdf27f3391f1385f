"""Executing a smoke test run: every platform image of the digest (attestations are not platforms), one
after the other, each judged against the run's definition and recorded; then the `smoke-test` webhook.

The runner is the worker's Docker engine (insights/services/smoke_docker.py); it is a parameter so the
recording and judging can be exercised with another real executor.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from insights import payloads
from insights.models import SmokeTestResult, SmokeTestRun
from insights.services.smoke_process import Outcome, last_lines
from insights.services.smoke_tests import smoke_run_enqueue
from insights.services.webhooks import event_dispatch
from repos.models import Manifest
from repos.selectors.platforms import platform_images

logger = logging.getLogger("insights")

Reason = SmokeTestResult.Reason


class Session(Protocol):
    def execute(self, *, platform: str, digest: str, definition: dict) -> Outcome: ...


class Runner(Protocol):
    def session(self, run: SmokeTestRun, *, platforms: int): ...


def platform_digests(manifest: Manifest) -> dict[str, str]:
    """platform → digest of the image clients pull for it (attestations are not platforms)."""
    return {platform: image.digest for platform, image in platform_images(manifest).items()}


def smoke_judge(definition: dict, outcome: Outcome) -> tuple[str, str]:
    """(reason, detail): reason "" when the outcome passes the test."""
    if outcome.start_error:
        return Reason.COULD_NOT_START, outcome.start_error
    if outcome.timed_out:
        return Reason.TIMEOUT, f"still running after {definition['time_limit_seconds']} s: killed"
    expected = definition["expected_exit_code"]
    if outcome.exit_code != expected:
        return Reason.EXIT_CODE, f"exited with {outcome.exit_code}, expected {expected}"
    pattern = definition.get("output_pattern") or ""
    if pattern and re.search(pattern, outcome.output, re.MULTILINE) is None:
        return Reason.OUTPUT_MISMATCH, f"the output does not match {pattern!r}"
    return Reason.NONE, ""


def result_record(result: SmokeTestResult, *, definition: dict, outcome: Outcome) -> SmokeTestResult:
    reason, detail = smoke_judge(definition, outcome)
    result.status = SmokeTestResult.Status.FAILED if reason else SmokeTestResult.Status.PASSED
    result.reason = reason
    result.detail = detail
    result.exit_code = outcome.exit_code
    result.duration_ms = outcome.duration_ms
    result.output = last_lines(outcome.output, settings.SMOKE_TEST_OUTPUT_LINES)
    result.finished_at = timezone.now()
    result.save(update_fields=["status", "reason", "detail", "exit_code", "duration_ms", "output", "finished_at"])
    return result


def smoke_test_run_execute(*, run_id: int, runner: Runner | None = None) -> SmokeTestRun | None:
    """Take a queued run (compare-and-set: a redelivered message runs nothing twice) and run it."""
    taken = SmokeTestRun.objects.filter(pk=run_id, status=SmokeTestRun.Status.QUEUED).update(
        status=SmokeTestRun.Status.RUNNING, started_at=timezone.now()
    )
    if not taken:
        return None
    run = SmokeTestRun.objects.select_related("repository", "image", "requested_by").get(pk=run_id)
    manifest = Manifest.objects.filter(digest=run.digest).first()
    images = platform_digests(manifest) if manifest is not None else {}
    if not images:
        return _finish(run, error="no platform image to run (an artifact, or the content is gone)")
    results = [
        SmokeTestResult.objects.create(run=run, platform=platform, manifest_digest=digest, fingerprint=run.fingerprint)
        for platform, digest in sorted(images.items())
    ]
    if runner is None:
        from insights.services.smoke_docker import DockerRunner

        runner = DockerRunner()
    try:
        with runner.session(run, platforms=len(results)) as session:
            for result in results:
                outcome = session.execute(
                    platform=result.platform, digest=result.manifest_digest, definition=run.definition
                )
                result_record(result, definition=run.definition, outcome=outcome)
    except Exception as exc:
        logger.exception("smoke test run %s failed", run.pk)
        return _finish(run, error=f"{type(exc).__name__}: {exc}"[:1000])
    return _finish(run)


def _finish(run: SmokeTestRun, *, error: str = "") -> SmokeTestRun:
    failed = run.results.exclude(status=SmokeTestResult.Status.PASSED).exists()
    if error:
        status = SmokeTestRun.Status.ERROR
    else:
        status = SmokeTestRun.Status.FAILED if failed else SmokeTestRun.Status.PASSED
    SmokeTestRun.objects.filter(pk=run.pk, status=SmokeTestRun.Status.RUNNING).update(
        status=status, error=error, finished_at=timezone.now()
    )
    run.refresh_from_db()
    try:
        event_dispatch(event="smoke-test", repository=run.repository, payload=run_payload(run))
    except Exception:
        logger.exception("smoke-test webhooks of run %s failed", run.pk)
    return run


def run_payload(run: SmokeTestRun) -> dict:
    results = list(run.results.all())
    manifest = Manifest.objects.filter(digest=run.digest).only("media_type").first()
    return {
        "repository": run.repository.key,
        "image": run.image.name,
        "tag": run.tag,
        "digest": run.digest,
        "media_type": manifest.media_type if manifest else "",
        "platforms": [r.platform for r in results],
        "actor": payloads.actor_name(run.requested_by_id),
        "source": run.trigger,
        "smoke_test": {
            "run": run.pk,
            "status": run.status,
            "error": run.error,
            "test_repository": run.test_repository.key if run.test_repository else None,
            "command": run.definition["command"],
            "results": {
                r.platform: {
                    "digest": r.manifest_digest,
                    "status": r.status,
                    "reason": r.reason,
                    "detail": r.detail,
                    "exit_code": r.exit_code,
                    "duration_ms": r.duration_ms,
                }
                for r in results
            },
        },
    }


def smoke_runs_reconcile(*, now=None) -> dict[str, list[int]]:
    """Close runs whose worker vanished and re-send runs whose message was lost (the row is the truth).

    A running run is stale once it has run longer than it possibly could: per platform its time limit plus a
    pull (SMOKE_TEST_PULL_SECONDS), plus SMOKE_TEST_STALE_MARGIN_SECONDS. It ends as `error` (its platforms
    without a result stay pending: "not yet tested" for promotion); running it again is a new run. A run
    queued longer than SMOKE_TEST_RESEND_SECONDS is sent again; taking a run is a compare-and-set, so a
    duplicate message runs nothing twice.
    """
    now = now or timezone.now()
    outcome: dict[str, list[int]] = {"stale": [], "resent": []}
    running = SmokeTestRun.objects.filter(status=SmokeTestRun.Status.RUNNING).select_related("repository", "image")
    for run in running:
        platforms = max(run.results.count(), 1)
        allowance = platforms * (run.definition["time_limit_seconds"] + settings.SMOKE_TEST_PULL_SECONDS)
        allowance += settings.SMOKE_TEST_STALE_MARGIN_SECONDS
        if run.started_at and (now - run.started_at).total_seconds() > allowance:
            _finish(run, error=f"the worker running it stopped (no end after {allowance} s)")
            outcome["stale"].append(run.pk)
    cutoff = now - timedelta(seconds=settings.SMOKE_TEST_RESEND_SECONDS)
    lost = SmokeTestRun.objects.filter(status=SmokeTestRun.Status.QUEUED, created__lt=cutoff).filter(
        Q(sent_at__isnull=True) | Q(sent_at__lt=cutoff)
    )
    for run_id in lost.values_list("pk", flat=True):
        smoke_run_enqueue(run_id)
        outcome["resent"].append(run_id)
    if any(outcome.values()):
        logger.warning("smoke test runs reconciled: %s", outcome)
    return outcome
