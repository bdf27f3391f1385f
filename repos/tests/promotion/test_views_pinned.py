"""The browser form confirms exactly what the preview showed; Copy and the next stage are the defaults."""

import re

import pytest

from repos.models import PromotionJob, Tag
from repos.tests.promotion.content import push_index
from repos.tests.promotion.test_views import form, pinned_token, text
from tests.support.factories import RepositoryFactory

IMAGE = "multiarch-image"


@pytest.fixture
def stages(source, target):
    """docker-local → docker-target → docker-prod, and one repository sorted before them by key only."""
    source.stage_order, target.stage_order = 10, 20
    source.save()
    target.save()
    return [
        source,
        target,
        RepositoryFactory(key="docker-prod", stage_order=30),
        RepositoryFactory(key="aaa-scratch", stage_order=40),
    ]


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin)
    return client


def tags_of(repository) -> dict[str, str]:
    return dict(Tag.objects.filter(image__repository=repository).values_list("name", "manifest__digest"))


def selected(html: str, name: str) -> str:
    found_select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found_select, f"no <select name={name}>"
    select = found_select.group(1)
    found = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return found.group(1) if found else ""


def checked_mode(html: str) -> str:
    found = re.search(r'<input type="radio" name="mode" value="(\w+)" checked>', html)
    assert found, "no mode is checked"
    return found.group(1)


@pytest.mark.parametrize(
    "source_key, expected_target",
    [
        ("docker-local", "docker-target"),
        ("docker-target", "docker-prod"),
        ("docker-prod", "aaa-scratch"),
        ("aaa-scratch", ""),  # the last stage has no next one: the user chooses, it is never the source itself
    ],
)
def test_copy_and_the_next_stage_are_the_defaults(signed_in, stages, source_key, expected_target):
    html = signed_in.get("/promotions/new/", {"repository": source_key, "image": IMAGE, "tag": "1.0"}).content.decode()
    assert selected(html, "source_repository") == source_key
    assert selected(html, "target_repository") == expected_target
    assert checked_mode(html) == "copy"
    assert f"1.0 and its per-platform tags</span>\n      leave <span data-move-source>{source_key}</span>" in html


def test_links_can_prefill_target_names_and_mode(signed_in, stages):
    html = signed_in.get(
        "/promotions/new/",
        {
            "repository": "docker-local",
            "image": IMAGE,
            "tag": "1.0",
            "target": "docker-prod",
            "target_tag": "1.0-rc",
            "mode": "move",
        },
    )
    html = html.content.decode()
    assert selected(html, "target_repository") == "docker-prod"
    assert 'value="1.0-rc"' in html and checked_mode(html) == "move"


def test_a_target_left_unchosen_is_asked_for(signed_in, stages):
    push_index(stages[0], IMAGE, "latest")
    response = signed_in.post("/promotions/new/", form(target_repository="", preview="1"))
    assert "This field is required." in text(response)
    assert 'name="confirm"' not in response.content.decode()


def test_preview_pins_the_plan_and_confirm_runs_it(signed_in, source, target):
    pushed = push_index(source, IMAGE, "latest")
    preview = signed_in.post("/promotions/new/", form(mode="copy", target_tag="stable", preview="1"))
    assert f"latest @ {pushed.digest[:19]}" in text(preview)
    response = signed_in.post(
        "/promotions/new/", form(mode="copy", target_tag="stable", confirm="1", pinned=pinned_token(preview))
    )
    job = PromotionJob.objects.get()
    assert response.status_code == 302
    assert (job.copy, job.target_tag, job.expected_digests) == (True, "stable", {"latest": pushed.digest})


@pytest.mark.parametrize(
    "change",
    [{"mode": "move"}, {"target_tag": "other"}, {"source_tag": "latest-linux-amd64"}, {"target_image": "renamed"}],
)
def test_inputs_changed_after_the_preview_are_not_run(signed_in, source, target, change):
    push_index(source, IMAGE, "latest")
    preview = signed_in.post("/promotions/new/", form(mode="copy", preview="1"))
    fields = {"mode": "copy", **change}
    response = signed_in.post("/promotions/new/", form(confirm="1", pinned=pinned_token(preview), **fields))
    assert response.status_code == 409
    assert "the form changed since the preview" in text(response)
    assert 'name="confirm"' not in response.content.decode()
    assert not PromotionJob.objects.exists()


@pytest.mark.parametrize("token", ["", "forged", "eyJ4IjoxfQ:1abc:def"])
def test_confirm_without_a_genuine_preview_is_refused(signed_in, source, target, token):
    push_index(source, IMAGE, "latest")
    response = signed_in.post("/promotions/new/", form(confirm="1", pinned=token))
    assert response.status_code == 409
    assert "preview first" in text(response)
    assert not PromotionJob.objects.exists()


def test_a_source_moved_after_the_preview_is_refused_with_both_digests(signed_in, source, target):
    previewed = push_index(source, IMAGE, "latest").digest
    preview = signed_in.post("/promotions/new/", form(preview="1"))  # a move
    current = push_index(source, IMAGE, "latest", payload=b"pushed after the preview").digest
    before = tags_of(source)

    response = signed_in.post("/promotions/new/", form(confirm="1", pinned=pinned_token(preview)))

    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-rule="source-changed"' in html
    assert f'<code class="previewed">{previewed}</code>' in html
    assert f'<code class="current">{current}</code>' in html
    assert "nothing was changed" in text(response)
    assert not PromotionJob.objects.exists()
    assert tags_of(source) == before and tags_of(target) == {}
