"""Search by name, tag, digest (full or short), platform and label."""

import pytest

from repos.selectors.search import parse_query

pytestmark = pytest.mark.django_db


def search(client, query: str) -> str:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def test_query_kinds():
    assert parse_query("team/app").kinds == ("image", "tag")
    assert parse_query("linux/arm64").kinds == ("platform",)
    assert parse_query("team=core").kinds == ("label",)
    assert parse_query("sha256:abcdef12").kinds == ("digest",)
    assert parse_query("abcdef1234").kinds == ("digest", "image", "tag")
    assert parse_query("tag:1.0").kinds == ("tag",) and parse_query("tag:1.0").text == "1.0"


def test_by_image_name_and_tag(admin_client, pushed):
    page = search(admin_client, "app")
    assert "docker-local/<b>team/app</b>" in page
    page = search(admin_client, "tag:1.0")
    assert "team/app:<b>1.0</b>" in page
    assert "1.0-linux-amd64</b>" not in page  # per-platform tags fold into their index tag


def test_by_digest_full_short_and_layer(admin_client, pushed):
    index = pushed.content.index_digest
    for query in (index, index[7:19], f"digest:{index[:20]}"):
        page = search(admin_client, query)
        assert f'title="{index}"' in page, query
    page = search(admin_client, pushed.content.base_layer_digest[7:20])
    for _, digest in pushed.content.children.values():
        assert f'title="{digest}"' in page


def test_by_platform_and_label(admin_client, pushed):
    assert "team/app:<b>1.0</b>" in search(admin_client, "linux/arm64")
    assert "0 found" in search(admin_client, "linux/s390x")
    assert "team/app:<b>1.0</b>" in search(admin_client, "team=core")
    assert "team/app:<b>1.0</b>" in search(admin_client, "label:team")
    assert "0 found" in search(admin_client, "team=other")
    # a key that reads like an ORM lookup is just a key
    assert "0 found" in search(admin_client, "label:contains=x")


def test_label_rows_come_with_the_pushed_manifest_and_match_the_whole_value(admin_client, pushed):
    from repos.models import Manifest, ManifestLabel

    amd64 = Manifest.objects.get(digest=pushed.content.children["linux/amd64"][1])
    assert dict(amd64.label_rows.values_list("key", "value")) == amd64.config["labels"]
    assert ("team", "core") in amd64.label_rows.values_list("key", "value")
    # Only the start of a value is indexed: values sharing it still match on the whole value.
    long_value = "x" * 240
    ManifestLabel.objects.bulk_create(ManifestLabel.rows_for(amd64.pk, {"labels": {"note": long_value, "bad": 1}}))
    assert "team/app:<b>1.0</b>" in search(admin_client, f"note={long_value}")
    assert "0 found" in search(admin_client, f"note={'x' * 239}y")
    assert not ManifestLabel.objects.filter(key="bad").exists()  # not a string: never a label


def test_tag_results_page_the_same_read_at_once_or_counted(admin_client, pushed, monkeypatch):
    import re

    from repos.selectors import search as search_selectors
    from repos.tests.dashboard.fixtures import seed

    seed(12)

    def pages() -> list[tuple[list[str], list[str]]]:
        found = []
        for number in (1, 2, 3):
            page = admin_client.get("/search/", {"q": "linux/amd64", "platform_page": number}).content.decode()
            found.append(
                (re.findall(r"\d+–\d+ of \d+", page), re.findall(r"(?:service-\d{4}|team/app):<b>[^<]+</b>", page))
            )
        return found

    listed = pages()
    monkeypatch.setattr(search_selectors, "MAX_LISTED", 10)  # more matches than that: counted, then sliced
    assert pages() == listed
    total = int(listed[0][0][0].rsplit(" ", 1)[1])
    assert 35 < total <= 50  # more than MAX_LISTED above, on two pages
    assert listed[1][0] == [f"26–{total} of {total}"]
    assert len(listed[0][1]) == 25 and len(listed[1][1]) == total - 25


def test_sections_paginate_on_their_own_parameter(admin_client, pushed):
    from repos.models import Image

    Image.objects.bulk_create([Image(repository=pushed.repository, name=f"team/app-{i:02d}") for i in range(30)])
    first = search(admin_client, "team/app")
    assert "1–25 of 31" in first and "image_page=2" in first
    assert "Nothing found among: tags" in first
    second = admin_client.get("/search/", {"q": "team/app", "image_page": 2}).content.decode()
    assert "26–31 of 31" in second
