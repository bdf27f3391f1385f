"""Promotion service: copy vs move, one tag vs all, renames, referrers, metadata only."""

from typing import Any

import pytest

from repos.models import Image, ImageManifest, Manifest, RepositoryBlob, Tag
from repos.promotion.domain import PromotionInvalid
from repos.promotion.execution import PromotionNotFound, PromotionRequest, promotion_execute, promotion_plan
from repos.tests.promotion.content import push_image, push_index, storage_usage
from tests.support.content import AMD64, ARM64, ARMV7

IMAGE = "multiarch-image"


def tags_of(repository, image=IMAGE) -> dict[str, str]:
    return {t.name: t.manifest.digest for t in Tag.objects.filter(image__repository=repository, image__name=image)}


def members_of(repository, image=IMAGE) -> set[str]:
    return set(
        ImageManifest.objects.filter(image__repository=repository, image__name=image).values_list(
            "manifest__digest", flat=True
        )
    )


def blobs_of(repository) -> set[str]:
    return set(RepositoryBlob.objects.filter(repository=repository).values_list("blob__digest", flat=True))


def request(**kwargs) -> PromotionRequest:
    values: dict[str, Any] = {"source_key": "docker-local", "source_image": IMAGE, "target_key": "docker-target"}
    values.update(kwargs)
    return PromotionRequest(**values)


def test_copy_one_tag_brings_index_children_referrers_and_blobs(source, target, admin, blob_storage):
    pushed = push_index(source, IMAGE, "latest", signed=True)
    push_index(source, IMAGE, "other", (AMD64,), payload=b"other")
    before = storage_usage(blob_storage / "blobs")

    plan = promotion_execute(request=request(source_tag="latest", copy=True), user=admin)

    assert storage_usage(blob_storage / "blobs") == before  # metadata only
    assert tags_of(target) == {
        "latest": pushed.digest,
        "latest-linux-amd64": pushed.children["linux/amd64"],
        "latest-linux-arm64": pushed.children["linux/arm64"],
    }
    assert members_of(target) == {pushed.digest, *pushed.children.values(), *pushed.referrers}
    assert pushed.blobs <= blobs_of(target)
    assert plan.manifests[pushed.referrers[0]] == "referrer"
    # copy: the source keeps everything
    assert {"latest", "latest-linux-amd64", "latest-linux-arm64", "other"} <= set(tags_of(source))


def test_move_one_tag_removes_it_and_its_platform_tags_from_source(source, target, admin):
    pushed = push_index(source, IMAGE, "latest", signed=True)
    other = push_index(source, IMAGE, "other", (AMD64,), payload=b"other")

    plan = promotion_execute(request=request(source_tag="latest"), user=admin)

    assert set(tags_of(target)) == {"latest", "latest-linux-amd64", "latest-linux-arm64"}
    assert tags_of(source) == {"other": other.digest, "other-linux-amd64": other.children["linux/amd64"]}
    assert plan.removed_from_source == ["latest", "latest-linux-amd64", "latest-linux-arm64"]
    # what only the moved tag reached leaves the source image; what `other` still uses stays
    assert pushed.digest not in members_of(source)
    assert pushed.referrers[0] not in members_of(source)
    assert other.digest in members_of(source)


def test_move_of_the_last_tag_removes_the_source_image(source, target, admin):
    push_index(source, IMAGE, "latest")
    plan = promotion_execute(request=request(), user=admin)
    assert plan.source_image_removed
    assert not Image.objects.filter(repository=source, name=IMAGE).exists()
    assert set(tags_of(target)) == {"latest", "latest-linux-amd64", "latest-linux-arm64"}


def test_all_tags_are_promoted_without_a_source_tag(source, target, admin):
    first = push_index(source, IMAGE, "1.0")
    second = push_index(source, IMAGE, "2.0", (AMD64, ARM64, ARMV7), payload=b"2")
    _, single, _ = push_image(source, IMAGE, AMD64, reference="amd64-only", payload=b"single")

    promotion_execute(request=request(copy=True), user=admin)

    assert tags_of(target) == tags_of(source)
    assert tags_of(target)["2.0-linux-arm-v7"] == second.children["linux/arm/v7"]
    assert tags_of(target)["1.0"] == first.digest
    assert tags_of(target)["amd64-only"] == single
    derived = Tag.objects.get(image__repository=target, name="2.0-linux-arm64")
    assert derived.derived_from.name == "2.0"


def test_target_tag_renames_the_index_tag_and_every_platform_tag(source, target, admin):
    pushed = push_index(source, IMAGE, "latest")

    plan = promotion_execute(request=request(source_tag="latest", target_tag="latest-new"), user=admin)

    assert tags_of(target) == {
        "latest-new": pushed.digest,
        "latest-new-linux-amd64": pushed.children["linux/amd64"],
        "latest-new-linux-arm64": pushed.children["linux/arm64"],
    }
    assert {(c.source_tag, c.target_tag) for c in plan.renamed} == {
        ("latest", "latest-new"),
        ("latest-linux-amd64", "latest-new-linux-amd64"),
        ("latest-linux-arm64", "latest-new-linux-arm64"),
    }
    assert tags_of(source) == {}  # a move takes the renamed per-arch tags along


def test_target_image_renames_the_image(source, target, admin):
    pushed = push_index(source, IMAGE, "latest")
    promotion_execute(request=request(source_tag="latest", target_image="team/renamed", copy=True), user=admin)
    assert tags_of(target, "team/renamed")["latest"] == pushed.digest
    assert not Image.objects.filter(repository=target, name=IMAGE).exists()


def test_rename_inside_one_image_is_a_retag(source, admin):
    pushed = push_index(source, IMAGE, "rc")
    promotion_execute(request=request(target_key="docker-local", source_tag="rc", target_tag="final"), user=admin)
    assert tags_of(source) == {
        "final": pushed.digest,
        "final-linux-amd64": pushed.children["linux/amd64"],
        "final-linux-arm64": pushed.children["linux/arm64"],
    }
    assert pushed.digest in members_of(source)


def test_promoting_one_platform_tag(source, target, admin):
    pushed = push_index(source, IMAGE, "latest")
    promotion_execute(request=request(source_tag="latest-linux-arm64", copy=True), user=admin)
    assert tags_of(target) == {"latest-linux-arm64": pushed.children["linux/arm64"]}
    assert members_of(target) == {pushed.children["linux/arm64"]}


def test_overwrite_replaces_the_platform_tags_completely(source, target, admin):
    old = push_index(source, IMAGE, "old", (AMD64, ARM64, ARMV7), payload=b"old")
    promotion_execute(request=request(source_tag="old", target_tag="latest", copy=True), user=admin)
    new = push_index(source, IMAGE, "new", (AMD64,), payload=b"new")

    plan = promotion_execute(request=request(source_tag="new", target_tag="latest", copy=True), user=admin)

    assert plan.removed_from_target == ["latest-linux-arm-v7", "latest-linux-arm64"]
    assert [c.target_tag for c in plan.changes("overwrite")] == ["latest", "latest-linux-amd64"]
    assert tags_of(target) == {"latest": new.digest, "latest-linux-amd64": new.children["linux/amd64"]}
    assert old.digest in members_of(target)  # still reachable by digest, as after a push


def test_promoting_again_changes_nothing(source, target, admin):
    push_index(source, IMAGE, "latest")
    promotion_execute(request=request(source_tag="latest", copy=True), user=admin)
    before = {t.name: t.updated for t in Tag.objects.filter(image__repository=target)}
    plan = promotion_execute(request=request(source_tag="latest", copy=True), user=admin)
    assert {c.action for c in plan.tags} == {"unchanged"}
    assert {t.name: t.updated for t in Tag.objects.filter(image__repository=target)} == before


def test_preview_lists_the_changes_and_writes_nothing(source, target, admin):
    push_index(source, IMAGE, "latest")
    plan = promotion_plan(request=request(source_tag="latest", target_tag="stable"), user=admin)
    data = plan.as_dict()
    assert data["allowed"] is True
    assert data["tags_created"] == ["stable", "stable-linux-amd64", "stable-linux-arm64"]
    assert data["removed_from_source"] == ["latest", "latest-linux-amd64", "latest-linux-arm64"]
    assert {r["from"] for r in data["tags_renamed"]} == {"latest", "latest-linux-amd64", "latest-linux-arm64"}
    assert not Image.objects.filter(repository=target).exists()
    assert "latest" in tags_of(source)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"source_tag": "nope"}, PromotionNotFound),
        ({"source_image": "missing"}, PromotionNotFound),
        ({"target_key": "no-such-repo"}, PromotionNotFound),
        ({"target_tag": "x"}, PromotionInvalid),
        ({"source_tag": "Bad Tag"}, PromotionInvalid),
        ({"target_image": "UPPER/case"}, PromotionInvalid),
        ({"target_key": "docker-local", "source_tag": "latest"}, PromotionInvalid),
    ],
)
def test_invalid_or_unknown_requests(source, target, admin, kwargs, error):
    push_index(source, IMAGE, "latest")
    with pytest.raises(error):
        promotion_execute(request=request(**kwargs), user=admin)
    assert not Image.objects.filter(repository=target).exists()


def test_move_keeps_what_an_untagged_index_left_in_the_source_still_lists(source, target, admin):
    from repos.oci import media_types
    from repos.services.manifests import manifest_put
    from repos.tests.promotion.content import push_image
    from tests.support import content as f

    pushed = push_index(source, IMAGE, "latest")
    # Another index, pushed by digest only, that shares the amd64 image.
    raw_amd64 = bytes(Manifest.objects.get(digest=pushed.children["linux/amd64"]).raw)
    extra_raw, _, _ = push_image(source, IMAGE, ARMV7, payload=b"extra")
    untagged = f.index(children=[(raw_amd64, AMD64), (extra_raw, ARMV7)], oci=True)
    manifest_put(
        repository=source,
        image_name=IMAGE,
        reference=f.digest_of(untagged),
        raw=untagged,
        content_type=media_types.OCI_INDEX,
    )

    plan = promotion_execute(request=request(source_tag="latest"), user=admin)

    assert pushed.children["linux/amd64"] not in plan.unlinked_from_source
    assert pushed.children["linux/amd64"] in members_of(source)
    assert pushed.digest not in members_of(source)
    assert pushed.children["linux/arm64"] not in members_of(source)
    assert not plan.source_image_removed
