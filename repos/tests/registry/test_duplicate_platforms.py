"""An index that lists one platform twice: per-platform tags name the entry clients pull (the first),
and the duplicate is reported on the tag page and in the tag API."""

import json

from repos.models import Tag
from repos.oci import media_types
from repos.promotion.execution import PromotionRequest, promotion_execute
from tests.support import content as f
from tests.support.factories import RepositoryFactory

NAME = "docker-local/dup"


def _push_image(registry, *, arch: str, payload: str) -> bytes:
    config = f.image_config(architecture=arch, history=[{"created_by": f"COPY {payload} /"}])
    layer = f"layer {payload}".encode()
    registry.push_blob(NAME, config)
    registry.push_blob(NAME, layer)
    raw = f.image_manifest(config=config, layers=[layer], oci=True)
    assert registry.push_manifest(NAME, f.digest_of(raw), raw, media_types.OCI_MANIFEST).status_code == 201
    return raw


def _push_duplicated_index(registry, tag: str = "1.0") -> tuple[str, str, str]:
    """An index listing linux/amd64 twice (first, second) and linux/arm64 once; their digests."""
    first = _push_image(registry, arch="amd64", payload="first")
    second = _push_image(registry, arch="amd64", payload="second")
    arm = _push_image(registry, arch="arm64", payload="arm")
    amd64 = {"os": "linux", "architecture": "amd64"}
    index = f.index(
        children=[(first, amd64), (arm, {"os": "linux", "architecture": "arm64"}), (second, amd64)], oci=True
    )
    response = registry.push_manifest(NAME, tag, index, media_types.OCI_INDEX)
    assert response.status_code == 201, response.content
    return f.digest_of(first), f.digest_of(second), f.digest_of(arm)


def test_the_per_platform_tag_names_the_first_entry(registry):
    first, second, arm = _push_duplicated_index(registry)
    assert Tag.objects.get(name="1.0-linux-amd64").manifest.digest == first
    assert Tag.objects.get(name="1.0-linux-arm64").manifest.digest == arm
    assert registry.tags(NAME) == ["1.0", "1.0-linux-amd64", "1.0-linux-arm64"]
    # A client that cannot read indexes gets the same image as the per-platform tag.
    response = registry.get_manifest(NAME, "1.0", accept=media_types.OCI_MANIFEST)
    assert response["Docker-Content-Digest"] == first


def test_a_moved_index_keeps_naming_the_first_entry(registry):
    _push_duplicated_index(registry)
    first, _, _ = _push_duplicated_index(registry)  # same index again: nothing moves
    assert Tag.objects.get(name="1.0-linux-amd64").manifest.digest == first


def test_the_tag_api_warns_about_the_duplicate(registry, http):
    first, second, _ = _push_duplicated_index(registry)
    tags = {t["name"]: t for t in http.get("/api/tags/", {"repository": "docker-local"}).json()["results"]}
    warnings = tags["1.0"]["warnings"]
    assert len(warnings) == 1
    assert "linux/amd64 is listed 2 times" in warnings[0] and first in warnings[0] and second in warnings[0]
    assert tags["1.0-linux-arm64"]["warnings"] == []
    tag_id = tags["1.0"]["id"]
    assert http.get(f"/api/tags/{tag_id}/").json()["warnings"] == warnings


def test_the_tag_page_warns_about_the_duplicate(registry, http):
    first, second, _ = _push_duplicated_index(registry)
    page = http.get("/repositories/docker-local/dup/-/tags/1.0/").content.decode()
    assert 'class="callout warn"' in page
    assert "linux/amd64 is listed 2 times" in page and first in page and second in page


def test_an_index_without_duplicates_has_no_warning(registry, http):
    amd = _push_image(registry, arch="amd64", payload="only")
    index = f.index(children=[(amd, {"os": "linux", "architecture": "amd64"})], oci=True)
    assert registry.push_manifest(NAME, "clean", index, media_types.OCI_INDEX).status_code == 201
    page = http.get("/repositories/docker-local/dup/-/tags/clean/").content.decode()
    assert "callout warn" not in page
    tag = http.get("/api/tags/", {"repository": "docker-local", "name": "clean"}).json()["results"][0]
    assert json.dumps(tag["warnings"]) == "[]"


def test_a_promotion_names_the_first_entry_too(registry, django_user_model):
    first, _, _ = _push_duplicated_index(registry)
    RepositoryFactory(key="docker-target")
    admin = django_user_model.objects.get(username="registry-admin")
    promotion_execute(
        request=PromotionRequest(
            source_key="docker-local",
            source_image="dup",
            target_key="docker-target",
            source_tag="1.0",
            target_tag="2.0",
            copy=True,
        ),
        user=admin,
    )
    promoted = Tag.objects.get(image__repository__key="docker-target", name="2.0-linux-amd64")
    assert promoted.manifest.digest == first


def test_the_tag_page_marks_the_entry_a_platform_pull_never_reaches(registry, http):
    first, second, _ = _push_duplicated_index(registry)
    page = http.get("/repositories/docker-local/dup/-/tags/1.0/").content.decode()
    assert page.count("duplicate: never pulled by platform") == 1
    # Its pull command names it by digest; `--platform linux/amd64` would fetch the first entry.
    assert f"docker-local/dup@{second}" in page
