"""Where a tag came from (pushed, built, promoted) on its page and in the tag API; a job page's results."""

import re

import pytest

from builds.models import BuildJob
from builds.services.jobs import BuildRequest, build_create
from builds.services.publish import build_publish
from repos.models import PromotionJob, Tag
from repos.promotion.execution import PromotionRequest
from repos.promotion.jobs import promotion_job_run_here
from repos.tests.promotion.content import push_index
from repos.tests.promotion.test_views import text

IMAGE = "multiarch-image"


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin)
    return client


def api_tag(client, repository: str, name: str) -> dict:
    found = client.get("/api/tags/", {"repository": repository, "name": name, "page_size": 500}).json()["results"]
    [tag] = [t for t in found if t["name"] == name and t["image"] == IMAGE]
    return tag


def promote(admin, **kwargs) -> PromotionJob:
    request = PromotionRequest(
        source_key="docker-local",
        source_image=IMAGE,
        target_key="docker-target",
        source_tag="latest",
        copy=True,
        **kwargs,
    )
    return promotion_job_run_here(request=request, user=admin)


def test_a_pushed_tag_says_who_pushed_it(signed_in, source, target, admin):
    push_index(source, IMAGE, "latest")
    Tag.objects.filter(image__repository=source).update(pushed_by=admin)
    page = text(signed_in.get(f"/repositories/docker-local/{IMAGE}/-/tags/latest/"))
    assert "latest was pushed by release" in page
    provenance = api_tag(signed_in, "docker-local", "latest")["provenance"]
    assert (provenance["kind"], provenance["by"], provenance["promotion"], provenance["build"]) == (
        "pushed",
        "release",
        None,
        None,
    )


def test_a_promoted_tag_says_from_where_by_whom_when_and_which_job(signed_in, source, target, admin):
    push_index(source, IMAGE, "latest")
    job = promote(admin, target_tag="1.0")
    assert job.status == "succeeded"

    page = signed_in.get(f"/repositories/docker-target/{IMAGE}/-/tags/1.0/")
    assert f"1.0 was promoted from docker-local/{IMAGE}:latest by release" in text(page)
    assert f'href="/promotions/{job.pk}/">job #{job.pk}</a>' in page.content.decode()
    per_platform = text(signed_in.get(f"/repositories/docker-target/{IMAGE}/-/tags/1.0-linux-arm64/"))
    assert f"1.0-linux-arm64 was promoted from docker-local/{IMAGE}:latest-linux-arm64 by release" in per_platform

    provenance = api_tag(signed_in, "docker-target", "1.0")["provenance"]
    assert provenance["kind"] == "promoted" and provenance["promotion"] == job.pk
    assert provenance["promoted_from"] == f"docker-local/{IMAGE}:latest" and provenance["by"] == "release"
    assert provenance["at"] is not None
    # The source tag itself stays a push.
    assert api_tag(signed_in, "docker-local", "latest")["provenance"]["kind"] == "pushed"


def test_a_push_over_a_promoted_tag_is_a_push_again(signed_in, source, target, admin):
    push_index(source, IMAGE, "latest")
    promote(admin)
    push_index(target, IMAGE, "latest", payload=b"hotfix pushed straight to the target")
    assert api_tag(signed_in, "docker-target", "latest")["provenance"]["kind"] == "pushed"


def test_a_built_tag_names_its_build(signed_in, source, target, admin, settings):
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    build = build_create(
        user=admin,
        request=BuildRequest(
            repository="docker-local",
            image=IMAGE,
            platforms=["linux/amd64", "linux/arm64"],
            tags=["2.0"],
            git_url="git://127.0.0.1:9/app.git",
        ),
        enqueue=False,
    )
    push_index(source, IMAGE, "tmp-build-x")  # what the builder pushed under its staging tag
    BuildJob.objects.filter(pk=build.pk).update(status=BuildJob.Status.PUSHING)
    build.refresh_from_db()
    build_publish(job=build, staging="tmp-build-x", progress={})

    page = signed_in.get(f"/repositories/docker-local/{IMAGE}/-/tags/2.0/")
    assert f'was built by <a href="/builds/{build.pk}/">build #{build.pk}</a>' in page.content.decode()
    provenance = api_tag(signed_in, "docker-local", "2.0-linux-arm64")["provenance"]
    assert (provenance["kind"], provenance["build"]) == ("built", build.pk)


def test_the_job_page_links_the_resulting_tags_and_lists_what_it_linked(signed_in, source, target, admin):
    pushed = push_index(source, IMAGE, "latest", signed=True)
    job = promote(admin, target_tag="1.0")

    html = signed_in.get(f"/promotions/{job.pk}/").content.decode()

    for name in ("1.0", "1.0-linux-amd64", "1.0-linux-arm64"):
        assert f'href="/repositories/docker-target/{IMAGE}/-/tags/{name}/">{name}</a>' in html
        assert f">docker pull testserver/docker-target/{IMAGE}:{name}</code>" in html
    linked = _linked_rows(html)
    assert linked[pushed.digest][:2] == ["index", "every"]
    assert linked[pushed.children["linux/arm64"]][:2] == ["manifest", "linux/arm64"]
    assert linked[pushed.referrers[0]][0] == "referrer"
    blobs = {digest: row for digest, row in linked.items() if row[0] == "blob"}
    assert pushed.blobs <= set(blobs)  # configs and layers of every platform (and the signature's)
    arm_layers = [row for row in blobs.values() if "linux/arm64" in row]
    assert len(arm_layers) == 2  # its config and its layer
    assert all(re.search(r"\d+ B", " ".join(row)) for row in blobs.values())


def _linked_rows(html: str) -> dict[str, list[str]]:
    section = html[html.index('class="card flush linked-content"') :]
    rows = {}
    for row in re.findall(r"<tr data-role=.*?</tr>", section, re.S):
        found = re.search(r'<code class="wrap">([^<]+)</code>', row)
        assert found, row
        digest = found.group(1)
        rows[digest] = re.sub(r"<[^>]+>", " ", row.split('<code class="wrap">')[0]).split()
    return rows
