"""Every rule that refuses a promotion says why, and leaves both repositories exactly as they were."""

from typing import Any

import pytest

from repos.models import Image, Tag
from repos.promotion.execution import (
    PromotionNotFound,
    PromotionRefused,
    PromotionRequest,
    promotion_execute,
    promotion_plan,
)
from repos.tests.promotion.content import push_index
from tests.support.content import AMD64, ARM64, ARMV7

IMAGE = "multiarch-image"


def snapshot(*repositories):
    return sorted(
        Tag.objects.filter(image__repository__in=repositories).values_list(
            "image__repository__key", "image__name", "name", "manifest__digest"
        )
    )


def request(**kwargs) -> PromotionRequest:
    values: dict[str, Any] = {"source_key": "docker-local", "source_image": IMAGE, "target_key": "docker-target"}
    values.update(kwargs)
    return PromotionRequest(**values)


def refused(req, user, *repositories) -> PromotionRefused:
    before = snapshot(*repositories)
    preview = promotion_plan(request=req, user=user)
    with pytest.raises(PromotionRefused) as caught:
        promotion_execute(request=req, user=user)
    assert snapshot(*repositories) == before
    assert [r.rule for r in preview.refusals] == [r.rule for r in caught.value.plan.refusals]
    return caught.value


def test_immutable_target_tag_is_not_overwritten(source, target, admin):
    push_index(source, IMAGE, "old", payload=b"old")
    promotion_execute(request=request(source_tag="old", target_tag="1.0", copy=True), user=admin)
    target.tag_immutability = True
    target.save()
    push_index(source, IMAGE, "new", payload=b"new")

    error = refused(request(source_tag="new", target_tag="1.0", copy=True), admin, source, target)

    assert error.status == 409
    (refusal,) = error.plan.refusals
    assert refusal.rule == "tag-immutability"
    assert refusal.detail["tags"] == ["1.0", "1.0-linux-amd64", "1.0-linux-arm64"]
    assert "immutable" in str(error)


def test_immutable_target_accepts_new_tags_and_identical_ones(source, target, admin):
    target.tag_immutability = True
    target.save()
    push_index(source, IMAGE, "1.0")
    promotion_execute(request=request(source_tag="1.0", copy=True), user=admin)
    plan = promotion_execute(request=request(source_tag="1.0", copy=True), user=admin)
    assert {c.action for c in plan.tags} == {"unchanged"}


def test_a_move_out_of_a_repository_with_immutable_tags_is_refused(source, target, admin):
    source.tag_immutability = True
    source.save()
    push_index(source, IMAGE, "1.0")
    error = refused(request(source_tag="1.0"), admin, source, target)
    (refusal,) = error.plan.refusals
    assert (refusal.rule, refusal.detail["side"]) == ("tag-immutability", "source")
    assert "copy instead" in refusal.message
    promotion_execute(request=request(source_tag="1.0", copy=True), user=admin)


def test_required_platforms_missing_names_them(source, target, admin):
    target.required_platforms = ["linux/amd64", "linux/arm64", "linux/s390x"]
    target.save()
    push_index(source, IMAGE, "latest", (AMD64, ARM64))

    error = refused(request(source_tag="latest"), admin, source, target)

    (refusal,) = error.plan.refusals
    assert refusal.rule == "required-platforms"
    assert refusal.detail["missing"] == ["linux/s390x"]
    assert "linux/s390x" in refusal.message
    assert not Image.objects.filter(repository=target).exists()


def test_required_platforms_present_including_a_variant(source, target, admin):
    target.required_platforms = ["linux/amd64", "linux/arm/v7"]
    target.save()
    push_index(source, IMAGE, "latest", (AMD64, ARMV7))
    promotion_execute(request=request(source_tag="latest", copy=True), user=admin)
    assert Tag.objects.filter(image__repository=target, name="latest").exists()


def test_a_single_platform_tag_lacks_the_other_required_platform(source, target, admin):
    target.required_platforms = ["linux/amd64", "linux/arm64"]
    target.save()
    push_index(source, IMAGE, "latest")
    error = refused(request(source_tag="latest-linux-amd64", copy=True), admin, source, target)
    assert error.plan.refusals[0].detail["missing"] == ["linux/arm64"]


def test_without_promote_permission_nothing_happens(source, target, plain_user, grant):
    push_index(source, IMAGE, "latest")
    grant(plain_user, source, "read")
    grant(plain_user, target, "read", "write", "delete")
    error = refused(request(source_tag="latest", copy=True), plain_user, source, target)
    assert error.status == 403
    assert {(r.detail["repository"], r.detail["permission"]) for r in error.plan.refusals} == {
        ("docker-local", "promote"),
        ("docker-target", "promote"),
    }


def test_promote_is_needed_on_both_sides(source, target, plain_user, grant):
    push_index(source, IMAGE, "latest")
    grant(plain_user, source, "promote")
    grant(plain_user, target, "read")
    error = refused(request(source_tag="latest", copy=True), plain_user, source, target)
    assert [(r.rule, r.detail["side"]) for r in error.plan.refusals] == [("permission", "target")]
    grant(plain_user, target, "promote")
    promotion_execute(request=request(source_tag="latest", copy=True), user=plain_user)
    assert Tag.objects.filter(image__repository=target, name="latest").exists()


def test_a_move_needs_delete_on_the_source(source, target, plain_user, grant):
    push_index(source, IMAGE, "latest")
    grant(plain_user, source, "promote")
    grant(plain_user, target, "promote")
    error = refused(request(source_tag="latest"), plain_user, source, target)
    assert [(r.rule, r.detail["permission"]) for r in error.plan.refusals] == [("permission", "delete")]
    grant(plain_user, source, "delete")
    promotion_execute(request=request(source_tag="latest"), user=plain_user)
    assert not Tag.objects.filter(image__repository=source, name="latest").exists()


def test_overwriting_a_target_tag_needs_delete_there(source, target, admin, plain_user, grant):
    push_index(source, IMAGE, "old", payload=b"old")
    promotion_execute(request=request(source_tag="old", target_tag="1.0", copy=True), user=admin)
    push_index(source, IMAGE, "new", payload=b"new")
    grant(plain_user, source, "promote")
    grant(plain_user, target, "promote")

    error = refused(request(source_tag="new", target_tag="1.0", copy=True), plain_user, source, target)

    (refusal,) = error.plan.refusals
    assert refusal.rule == "overwrite-permission"
    assert refusal.detail["tags"] == ["1.0", "1.0-linux-amd64", "1.0-linux-arm64"]
    grant(plain_user, target, "delete")
    promotion_execute(request=request(source_tag="new", target_tag="1.0", copy=True), user=plain_user)


def test_a_repository_the_caller_cannot_read_is_unknown(source, target, plain_user, grant):
    push_index(source, IMAGE, "latest")
    grant(plain_user, target, "promote")
    with pytest.raises(PromotionNotFound):
        promotion_plan(request=request(source_tag="latest", copy=True), user=plain_user)


def test_several_rules_are_reported_together(source, target, admin):
    push_index(source, IMAGE, "old", payload=b"old")
    promotion_execute(request=request(source_tag="old", target_tag="1.0", copy=True), user=admin)
    target.tag_immutability = True
    target.required_platforms = ["linux/riscv64"]
    target.save()
    push_index(source, IMAGE, "new", payload=b"new")
    error = refused(request(source_tag="new", target_tag="1.0"), admin, source, target)
    assert {r.rule for r in error.plan.refusals} == {"tag-immutability", "required-platforms"}
