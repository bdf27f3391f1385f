"""`manage.py promote` with the JFrog CLI's flags."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from repos.models import PromotedDigest, PromotionJob, Tag
from repos.tests.promotion.content import push_index

IMAGE = "multiarch-image"


def promote(*args) -> str:
    out = StringIO()
    call_command("promote", *args, "--user", "release", stdout=out)
    return out.getvalue()


def tags(repository) -> set[str]:
    return set(Tag.objects.filter(image__repository=repository).values_list("name", flat=True))


def test_move_with_rename(source, target, admin):
    pushed = push_index(source, IMAGE, "latest")
    out = promote(IMAGE, "docker-local", "docker-target", "--source-tag", "latest", "--target-tag", "latest-new")
    assert "succeeded" in out and "removed from source latest, latest-linux-amd64, latest-linux-arm64" in out
    assert tags(target) == {"latest-new", "latest-new-linux-amd64", "latest-new-linux-arm64"}
    assert tags(source) == set()
    job = PromotionJob.objects.get()
    assert job.status == "succeeded" and job.requested_by == admin
    assert PromotedDigest.objects.filter(job=job, digest=pushed.digest, role="index").exists()


def test_copy_all_tags_into_a_renamed_image(source, target, admin):
    push_index(source, IMAGE, "1.0")
    push_index(source, IMAGE, "2.0", payload=b"2")
    promote(IMAGE, "docker-local", "docker-target", "--copy", "--target-image", "team/app")
    assert (
        tags(target)
        == tags(source)
        == {
            "1.0",
            "1.0-linux-amd64",
            "1.0-linux-arm64",
            "2.0",
            "2.0-linux-amd64",
            "2.0-linux-arm64",
        }
    )
    assert set(Tag.objects.filter(image__repository=target).values_list("image__name", flat=True)) == {"team/app"}


def test_dry_run_prints_the_plan_as_json(source, target, admin):
    push_index(source, IMAGE, "latest")
    plan = json.loads(promote(IMAGE, "docker-local", "docker-target", "--source-tag", "latest", "--dry-run", "--json"))
    assert plan["tags_created"] == ["latest", "latest-linux-amd64", "latest-linux-arm64"]
    assert not PromotionJob.objects.exists() and tags(target) == set()


def test_a_refusal_fails_the_command_with_the_reason(source, target, admin):
    target.required_platforms = ["linux/riscv64"]
    target.save()
    push_index(source, IMAGE, "latest")
    with pytest.raises(CommandError, match="linux/riscv64"):
        promote(IMAGE, "docker-local", "docker-target")
    assert PromotionJob.objects.get().status == "failed"
    with pytest.raises(CommandError, match="would be refused"):
        promote(IMAGE, "docker-local", "docker-target", "--dry-run")


def test_unknown_user_or_repository(source, target, admin):
    with pytest.raises(CommandError, match="no user"):
        call_command("promote", IMAGE, "docker-local", "docker-target", "--user", "nobody")
    with pytest.raises(CommandError, match="NOT_FOUND"):
        promote(IMAGE, "docker-local", "nowhere")


def test_expected_digest_refuses_a_moved_source(source, target, admin):
    old = push_index(source, IMAGE, "latest").digest
    new = push_index(source, IMAGE, "latest", payload=b"again").digest
    with pytest.raises(CommandError, match=f"source-changed|{old}") as refused:
        promote(IMAGE, "docker-local", "docker-target", "--copy", "--source-tag", "latest", "--expected-digest", old)
    assert old in str(refused.value) and new in str(refused.value)
    assert not PromotionJob.objects.exists() and tags(target) == set()
    out = promote(IMAGE, "docker-local", "docker-target", "--copy", "--source-tag", "latest", "--expected-digest", new)
    assert "succeeded" in out and "latest" in tags(target)
