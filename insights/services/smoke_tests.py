"""Smoke tests: a repository's definition, and asking for runs (after a push, build or promotion, or by hand).

Runs are Celery jobs (`insights.smoke_test_run`) queued after the requesting transaction commits; the row is
the truth (queued → running → passed/failed/error), the broker only says "run row N".
"""

from __future__ import annotations

import re
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.permissions import ADMIN, READ, WRITE, user_can
from accounts.services.audit import audit_record
from insights import errors
from insights.models import SmokeTest, SmokeTestRun
from repos.models import Image, Repository, Tag

MAX_ARGUMENTS = 64
MAX_ARGUMENT_LENGTH = 4096


def smoke_test_clean(data: dict) -> dict:
    """The definition fields checked; raises InvalidRequest naming each bad field."""
    problems: dict[str, list[str]] = {}
    command = data.get("command")
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(arg, str) for arg in command)
        or not command[0].strip()
    ):
        problems["command"] = ['a non-empty list of strings, the program first, e.g. ["/app", "--version"]']
    elif len(command) > MAX_ARGUMENTS or any(len(arg) > MAX_ARGUMENT_LENGTH or "\x00" in arg for arg in command):
        problems["command"] = [f"at most {MAX_ARGUMENTS} arguments of at most {MAX_ARGUMENT_LENGTH} characters, no NUL"]
    exit_code = data.get("expected_exit_code", 0)
    if not isinstance(exit_code, int) or isinstance(exit_code, bool) or not 0 <= exit_code <= 255:
        problems["expected_exit_code"] = ["a whole number from 0 to 255"]
    pattern = data.get("output_pattern") or ""
    if not isinstance(pattern, str) or len(pattern) > 500:
        problems["output_pattern"] = ["a regular expression of at most 500 characters"]
    else:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems["output_pattern"] = [f"not a valid regular expression: {exc}"]
    limit = data.get("time_limit_seconds", settings.SMOKE_TEST_DEFAULT_SECONDS)
    high = settings.SMOKE_TEST_MAX_SECONDS
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= high:
        problems["time_limit_seconds"] = [f"a whole number of seconds from 1 to {high}"]
    required = data.get("required_for_promotion", False)
    if not isinstance(required, bool):
        problems["required_for_promotion"] = ["true or false"]
    if problems:
        raise errors.InvalidRequest("invalid smoke test", errors=problems)
    return {
        "command": list(cast(list[str], command)),  # checked above: a non-empty list of strings
        "expected_exit_code": exit_code,
        "output_pattern": pattern,
        "time_limit_seconds": limit,
        "required_for_promotion": required,
    }


def smoke_test_save(*, actor, repository: Repository, data: dict) -> SmokeTest:
    """Create or replace the repository's smoke test (repository admins). Earlier results stay: they are
    keyed by the definition, so they count again if the definition comes back."""
    if not user_can(actor, repository, ADMIN):
        raise errors.Forbidden("changing the smoke test needs admin permission on the repository")
    if repository.kind != Repository.Kind.LOCAL:
        raise errors.InvalidRequest("smoke tests run on what is pushed or promoted into local repositories")
    cleaned = smoke_test_clean(data)
    with transaction.atomic():
        test, created = SmokeTest.objects.update_or_create(repository=repository, defaults=cleaned)
        audit_record(
            action="smoke_test.save",
            actor=actor,
            target=repository.key,
            detail={**cleaned, "created": created},
        )
    return test


def smoke_test_delete(*, actor, repository: Repository) -> None:
    if not user_can(actor, repository, ADMIN):
        raise errors.Forbidden("removing the smoke test needs admin permission on the repository")
    with transaction.atomic():
        deleted, _ = SmokeTest.objects.filter(repository=repository).delete()
        if deleted:
            audit_record(action="smoke_test.delete", actor=actor, target=repository.key, detail={})


def smoke_test_request(
    *,
    repository: Repository,
    image: Image,
    tag: str,
    digest: str,
    trigger: str,
    actor_id: int | None,
    test: SmokeTest,
) -> SmokeTestRun:
    """Record a queued run of `test` on `digest` and queue its job once this transaction commits."""
    with transaction.atomic():
        run = SmokeTestRun.objects.create(
            repository=repository,
            image=image,
            tag=tag,
            digest=digest,
            test_repository=test.repository,
            definition=test.definition(),
            fingerprint=test.fingerprint,
            trigger=trigger,
            requested_by_id=actor_id,
        )
        run_id = run.pk
        transaction.on_commit(lambda: smoke_run_enqueue(run_id))
    return run


def smoke_run_enqueue(run_id: int) -> None:
    from insights.tasks import smoke_test_run

    SmokeTestRun.objects.filter(pk=run_id).update(sent_at=timezone.now())
    options = {"queue": settings.SMOKE_TEST_QUEUE} if settings.SMOKE_TEST_QUEUE else {}
    smoke_test_run.apply_async(args=[run_id], **options)


def smoke_tests_after_tag_written(tag: Tag, *, actor_id: int | None, source: str) -> SmokeTestRun | None:
    """A tag of a repository with a smoke test now points at new content: test it."""
    repository = tag.image.repository
    test = SmokeTest.objects.filter(repository=repository).select_related("repository").first()
    if test is None:
        return None
    trigger = source if source in SmokeTestRun.Trigger.values else SmokeTestRun.Trigger.PUSH
    return smoke_test_request(
        repository=repository,
        image=tag.image,
        tag=tag.name,
        digest=tag.manifest.digest,
        trigger=trigger,
        actor_id=actor_id,
        test=test,
    )


def smoke_test_run_again(
    *, actor, repository_key: str, image: str, tag: str, test_repository_key: str = ""
) -> SmokeTestRun:
    """Run a smoke test again on what a tag holds now (write access to the tag's repository). With
    `test_repository_key`, run that repository's test instead (read access there): how an image is tested
    against the test of a repository it is to be promoted into, before it is promoted."""
    repository = Repository.objects.filter(key=repository_key).first()
    if repository is None or not user_can(actor, repository, READ):
        raise errors.NotFound(f"repository {repository_key!r} not found")
    if not user_can(actor, repository, WRITE):
        raise errors.Forbidden(f"running smoke tests needs write access to {repository.key}")
    found = Tag.objects.filter(image__repository=repository, image__name=image, name=tag).select_related(
        "image", "manifest"
    )
    row = found.first()
    if row is None:
        raise errors.NotFound(f"tag {repository.key}/{image}:{tag} not found")
    test_repository = repository
    if test_repository_key and test_repository_key != repository.key:
        other = Repository.objects.filter(key=test_repository_key).first()
        if other is None or not user_can(actor, other, READ):
            raise errors.NotFound(f"repository {test_repository_key!r} not found")
        test_repository = other
    test = SmokeTest.objects.filter(repository=test_repository).select_related("repository").first()
    if test is None:
        raise errors.InvalidRequest(
            f"{test_repository.key} has no smoke test", errors={"test_repository": ["no smoke test"]}
        )
    return smoke_test_request(
        repository=repository,
        image=row.image,
        tag=row.name,
        digest=row.manifest.digest,
        trigger=SmokeTestRun.Trigger.MANUAL,
        actor_id=getattr(actor, "pk", None),
        test=test,
    )
