"""Every dashboard page stays within the query budget (budget.py), with 1 image seeded and with 200."""

import pytest

from repos.models import Image, ManifestListEntry, Tag
from repos.tests.dashboard.budget import BUDGET, DIRTY_READ_EXTRA, assert_within_budget
from repos.tests.dashboard.fixtures import seed

pytestmark = pytest.mark.django_db


def page_urls(pushed) -> list[str]:
    content = pushed.content
    amd64 = content.children["linux/amd64"][1]
    seeded = Image.objects.filter(repository__key="seed-dev").order_by("id")[0]
    index_tag = Tag.objects.select_related("manifest").get(image=seeded, name="latest")
    child = ManifestListEntry.objects.filter(index=index_tag.manifest).exclude(os="unknown")[0].manifest
    seeded_base = f"/repositories/seed-dev/{seeded.name}"
    return [
        "/",
        "/?page=1",
        "/repositories/docker-local/",
        "/repositories/seed-dev/",
        "/repositories/seed-dev/?q=service",
        "/repositories/docker-local/-/settings/",
        f"{pushed.base}/",
        f"{seeded_base}/",
        f"{pushed.base}/-/tags/1.0/",
        f"{seeded_base}/-/tags/latest/",
        f"{seeded_base}/-/tags/latest-linux-arm64/",
        f"{pushed.base}/-/manifests/{content.index_digest}/",
        f"{pushed.base}/-/manifests/{amd64}/?index={content.index_digest}",
        f"{pushed.base}/-/manifests/{content.attestation[1]}/",
        f"{seeded_base}/-/manifests/{child.digest}/",
        "/coverage/",
        "/coverage/?missing_required=1&platform=linux/arm64",
        "/coverage/?page=2",
        "/coverage.csv",
        "/search/?q=service",
        "/search/?q=latest",
        f"/search/?q={content.index_digest[7:20]}",
        "/search/?q=linux/arm64",
        "/search/?q=team=core",
    ]


@pytest.mark.parametrize("images", [1, 200])
def test_every_page_within_budget(admin_client, pushed, images, django_assert_max_num_queries):
    seed(images)
    assert Image.objects.filter(repository__key__startswith="seed-").count() == images
    urls = page_urls(pushed)
    # The seeding flagged the repository counters; their first reader recounts them (bounded separately below).
    with django_assert_max_num_queries(BUDGET + DIRTY_READ_EXTRA):
        assert admin_client.get("/").status_code == 200
    assert_within_budget(admin_client, urls, django_assert_max_num_queries)
