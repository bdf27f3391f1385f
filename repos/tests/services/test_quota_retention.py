"""Quotas refuse exactly the push that passes them; a retention run removes exactly its preview."""

from datetime import timedelta

import pytest
from django.utils import timezone

from repos.models import Image, RepositoryBlob, Tag
from repos.services.retention import RetentionPreviewOutdated, repository_policy_update, retention_apply, retention_plan
from repos.tests.promotion.content import push_image, push_index
from repos.tests.registry.client import error_code
from tests.support import content as f
from tests.support.content import AMD64
from tests.support.factories import RepositoryFactory


@pytest.fixture
def local(db, blob_storage):
    return RepositoryFactory(key="docker-local", stage_order=1)


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser(username="ops-admin", password="pw-ops-admin-1")


def upload(client, name, data):
    return client.post(
        f"/v2/{name}/blobs/uploads/?digest={f.digest_of(data)}", data=data, content_type="application/octet-stream"
    )


def test_quota_boundary_is_exact(local, client, admin):
    client.force_login(admin)
    repository_policy_update(repository=local, quota_bytes=1000)
    assert upload(client, "docker-local/app", b"a" * 600).status_code == 201
    assert upload(client, "docker-local/app", b"b" * 400).status_code == 201  # exactly at the quota: accepted
    refused = upload(client, "docker-local/app", b"c")  # one byte more: refused
    assert refused.status_code == 403 and error_code(refused) == "DENIED"
    error = refused.json()["errors"][0]
    assert error["detail"] == {"repository": "docker-local", "quota_bytes": 1000, "used_bytes": 1000, "blob_bytes": 1}
    assert "1000" in error["message"]
    assert RepositoryBlob.objects.filter(repository=local).count() == 2
    # The same bytes again add nothing: still accepted at the quota.
    assert upload(client, "docker-local/app", b"a" * 600).status_code == 201


def test_chunked_upload_over_quota_is_refused_and_leaves_nothing(local, client, admin):
    client.force_login(admin)
    repository_policy_update(repository=local, quota_bytes=10)
    start = client.post("/v2/docker-local/app/blobs/uploads/")
    location = start.headers["Location"]
    client.patch(location, data=b"0123456789A", content_type="application/octet-stream")
    done = client.put(
        f"{location}?digest={f.digest_of(b'0123456789A')}", data=b"", content_type="application/octet-stream"
    )
    assert done.status_code == 403 and error_code(done) == "DENIED"
    assert not RepositoryBlob.objects.filter(repository=local).exists()
    assert client.get(location).status_code == 404  # the upload is gone


def test_a_mount_counts_against_the_quota(local, client, admin):
    other = RepositoryFactory(key="docker-other")
    client.force_login(admin)
    assert upload(client, "docker-other/app", b"m" * 50).status_code == 201
    repository_policy_update(repository=local, quota_bytes=49)
    mount = client.post(f"/v2/docker-local/app/blobs/uploads/?mount={f.digest_of(b'm' * 50)}&from=docker-other/app")
    assert mount.status_code == 403 and error_code(mount) == "DENIED"
    assert other.blob_links.count() == 1


def _tag_ages(image_name: str, ages_days: dict[str, int]) -> None:
    for name, days in ages_days.items():
        Tag.objects.filter(image__name=image_name, name=name).update(updated=timezone.now() - timedelta(days=days))


def _push_tags(repository, image, names):
    for name in names:
        push_image(repository, image, AMD64, reference=name, payload=f"{image}-{name}".encode())


def test_keep_newest_and_max_age_and_preview_equals_run(local, admin):
    _push_tags(local, "app", ["1.0", "1.1", "1.2", "1.3", "dev-a", "dev-b"])
    _tag_ages("app", {"1.0": 40, "1.1": 30, "1.2": 20, "1.3": 1, "dev-a": 50, "dev-b": 2})
    repository_policy_update(
        repository=local, retention_tag_pattern="1.*", retention_keep_newest=1, retention_max_age_days=25
    )
    preview = retention_plan(repository=local)
    # newest (1.3) kept; 1.2 is younger than 25 days; 1.1 and 1.0 go; dev-* do not match.
    assert [item["tag"] for item in preview.remove] == ["1.1", "1.0"]
    run = retention_apply(repository=local, expected=preview.keys, user=admin)
    assert [item["tag"] for item in run.removed] == ["1.1", "1.0"]
    assert set(Tag.objects.filter(image__name="app").values_list("name", flat=True)) == {"1.2", "1.3", "dev-a", "dev-b"}


def test_only_keep_newest(local):
    _push_tags(local, "app", ["a", "b", "c"])
    _tag_ages("app", {"a": 3, "b": 2, "c": 1})
    repository_policy_update(repository=local, retention_keep_newest=2)
    assert [item["tag"] for item in retention_plan(repository=local).remove] == ["a"]


def test_a_changed_repository_refuses_the_old_preview(local):
    _push_tags(local, "app", ["a", "b"])
    _tag_ages("app", {"a": 3, "b": 2})
    repository_policy_update(repository=local, retention_keep_newest=1)
    preview = retention_plan(repository=local)
    _push_tags(local, "app", ["c"])  # now b goes too
    with pytest.raises(RetentionPreviewOutdated):
        retention_apply(repository=local, expected=preview.keys)
    assert Tag.objects.filter(image__name="app").count() == 3


def test_index_tags_take_their_platform_tags_and_count_once(local):
    push_index(local, "multi", "1", payload=b"one")
    push_index(local, "multi", "2", payload=b"two")
    _tag_ages("multi", {"1": 10, "2": 1})
    repository_policy_update(repository=local, retention_keep_newest=1)
    preview = retention_plan(repository=local)
    assert [item["tag"] for item in preview.remove] == ["1"]
    retention_apply(repository=local, expected=preview.keys)
    assert sorted(Tag.objects.filter(image__name="multi").values_list("name", flat=True)) == [
        "2",
        "2-linux-amd64",
        "2-linux-arm64",
    ]


def test_immutable_and_later_stage_tags_are_protected_unless_told(local, admin):
    from repos.promotion.execution import PromotionRequest, promotion_execute

    later = RepositoryFactory(key="docker-prod", stage_order=5)
    _push_tags(local, "app", ["old-promoted", "old", "new"])
    promotion_execute(
        request=PromotionRequest(
            source_key="docker-local",
            source_image="app",
            target_key="docker-prod",
            source_tag="old-promoted",
            copy=True,
        ),
        user=admin,
    )
    _tag_ages("app", {"old-promoted": 30, "old": 20, "new": 1})
    Tag.objects.filter(image__repository=later).update(updated=timezone.now())
    repository_policy_update(repository=local, retention_keep_newest=1)
    plan = retention_plan(repository=local)
    assert [i["tag"] for i in plan.remove] == ["old"]
    assert plan.protected == [{"image": "app", "tag": "old-promoted", "reason": "held by a later stage"}]
    repository_policy_update(repository=local, retention_include_promoted=True)
    assert [i["tag"] for i in retention_plan(repository=local).remove] == ["old", "old-promoted"]

    local.tag_immutability = True
    local.save()
    plan = retention_plan(repository=local)
    assert plan.remove == [] and {p["reason"] for p in plan.protected} == {"immutable"}
    repository_policy_update(repository=local, retention_include_immutable=True)
    assert len(retention_plan(repository=local).remove) == 2


def test_rest_api_storage_policy_preview_and_run(local, client, admin, django_user_model):
    _push_tags(local, "app", ["a", "b", "c"])
    _tag_ages("app", {"a": 3, "b": 2, "c": 1})
    client.force_login(admin)
    storage = client.get("/api/repositories/docker-local/storage/").json()
    assert storage["held_bytes"] > 0 and storage["referenced_bytes"] == storage["exclusive_bytes"] > 0
    assert (
        client.patch(
            "/api/repositories/docker-local/policy/",
            {"retention_keep_newest": 1, "quota_bytes": 10**9},
            content_type="application/json",
        ).status_code
        == 200
    )
    preview = client.get("/api/repositories/docker-local/retention/preview/").json()
    assert [i["tag"] for i in preview["remove"]] == ["b", "a"]
    stale = client.post(
        "/api/repositories/docker-local/retention/run/",
        {"expected": preview["keys"][:1]},
        content_type="application/json",
    )
    [error] = stale.json()["errors"]
    assert stale.status_code == 409 and error["code"] == "PREVIEW_OUTDATED"
    assert error["detail"]["preview"]["keys"] == preview["keys"]
    run = client.post(
        "/api/repositories/docker-local/retention/run/", {"expected": preview["keys"]}, content_type="application/json"
    )
    assert run.status_code == 200 and [i["tag"] for i in run.json()["removed"]] == ["b", "a"]
    assert list(Image.objects.get(name="app").tags.values_list("name", flat=True)) == ["c"]
    # A reader may look but not change anything.
    reader = django_user_model.objects.create_user(username="reader", password="pw-reader-123")
    local.is_public = True
    local.save()
    client.force_login(reader)
    assert client.get("/api/repositories/docker-local/policy/").json()["retention_keep_newest"] == 1
    assert (
        client.patch(
            "/api/repositories/docker-local/policy/", {"retention_keep_newest": 5}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post("/api/repositories/docker-local/retention/run/", {}, content_type="application/json").status_code
        == 403
    )


def test_dashboard_storage_page_previews_and_runs(local, client, admin):
    _push_tags(local, "app", ["a", "b"])
    _tag_ages("app", {"a": 3, "b": 1})
    client.force_login(admin)
    page = client.get("/repositories/docker-local/-/storage/")
    assert page.status_code == 200 and b"No retention rule set" in page.content
    saved = client.post(
        "/repositories/docker-local/-/storage/",
        {"retention_tag_pattern": "*", "retention_keep_newest": "1", "quota_gib": "1"},
    )
    assert saved.status_code == 302
    page = client.get("/repositories/docker-local/-/storage/")
    assert b"Remove these 1 tag" in page.content
    from repos.services.quotas import repository_quota

    assert repository_quota(repository=local) == 2**30
    plan = retention_plan(repository=local)
    done = client.post("/repositories/docker-local/-/retention/", {"expected": plan.keys})
    assert done.status_code == 302
    assert list(Tag.objects.filter(image__name="app").values_list("name", flat=True)) == ["b"]
