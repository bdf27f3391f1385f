"""The stage view: one image's tags across 3 stages, every cell state, the next step per row, within budget."""

import re

import pytest

from repos.models import Repository
from repos.services.repositories import repositories_seed_defaults
from repos.tests.dashboard.budget import BUDGET
from repos.tests.promotion.content import push_image, push_index
from tests.support.content import AMD64, ARM64, ARMV7
from tests.support.factories import RepositoryFactory

IMAGE = "multiarch-image"

# tag: (docker-local, docker-target, docker-prod) content; None = absent, same letter = same digest.
LAYOUT = {
    "1.0": ("a", "a", "a"),
    "1.1": ("b", "b", None),
    "2.0": ("c", "d", "d"),
    "2.1": (None, "e", None),
    "3.0": ("f", None, "f"),
}
STATES = {
    "1.0": ["present", "same", "same"],
    "1.1": ["present", "same", "absent"],
    "2.0": ["present", "different", "same"],
    "2.1": ["absent", "new", "absent"],
    "3.0": ["present", "absent", "new"],
}
NEXT = {
    "1.0": None,
    "1.1": ("docker-target", "docker-prod"),
    "2.0": ("docker-local", "docker-target"),
    "2.1": ("docker-target", "docker-prod"),
    "3.0": ("docker-local", "docker-target"),
}


@pytest.fixture
def pipeline(source, target):
    """docker-local → docker-target → docker-prod, 5 tags in every state; a virtual repository is no stage."""
    source.stage_order, source.stage = 10, "dev"
    target.stage_order, target.stage = 20, "test"
    source.save()
    target.save()
    prod = RepositoryFactory(key="docker-prod", stage="prod", stage_order=30)
    RepositoryFactory(key="all-docker", kind=Repository.Kind.VIRTUAL, stage_order=0)
    repositories = [source, target, prod]
    digests = {}
    for tag, contents in LAYOUT.items():
        for repository, content in zip(repositories, contents):
            if content is None:
                continue
            if content == "e":  # one single-platform image, no index
                _, digests[content], _ = push_image(repository, IMAGE, ARMV7, reference=tag)
            else:
                platforms = (AMD64, ARM64, ARMV7) if content == "d" else (AMD64, ARM64)
                digests[content] = push_index(
                    repository, IMAGE, tag, platforms=platforms, payload=content.encode()
                ).digest
    return digests


def test_grid_marks_every_cell_against_the_previous_stage(admin_client, pipeline, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUDGET):
        grid = admin_client.get("/api/stages/", {"image": IMAGE}).json()

    assert [r["key"] for r in grid["repositories"]] == ["docker-local", "docker-target", "docker-prod"]
    assert [r["stage"] for r in grid["repositories"]] == ["dev", "test", "prod"]
    assert grid["count"] == 5
    rows = {row["tag"]: row for row in grid["results"]}
    assert list(rows) == list(LAYOUT)
    for tag, contents in LAYOUT.items():
        cells = rows[tag]["cells"]
        assert [c["state"] for c in cells] == STATES[tag], tag
        assert [c["digest"] for c in cells] == [pipeline[x] if x else None for x in contents], tag
        expected = NEXT[tag]
        step = rows[tag]["next_promotion"]
        assert (step and (step["source_repository"], step["target_repository"])) == expected, tag
    assert rows["2.0"]["cells"][1]["platforms"] == ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    assert rows["2.0"]["cells"][0]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert rows["2.1"]["cells"][1]["platforms"] == ["linux/arm/v7"]
    assert rows["2.1"]["cells"][0]["platforms"] == []


def test_stage_page_shows_the_grid_within_the_query_budget(admin_client, pipeline, django_assert_max_num_queries):
    with django_assert_max_num_queries(BUDGET):
        response = admin_client.get(f"/stages/{IMAGE}/")
    assert response.status_code == 200
    html = response.content.decode()
    for tag, states in STATES.items():
        row = re.search(rf'<tr data-tag="{re.escape(tag)}">(.*?)</tr>', html, re.S).group(1)
        assert re.findall(r'data-state="(\w+)"', row) == states, tag
        if NEXT[tag]:
            source, target = NEXT[tag]
            link = (
                f"/promotions/new/?repository={source}&amp;image={IMAGE}&amp;tag={tag}&amp;target={target}"
                "&amp;mode=copy"
            )
            assert link in row and f"Promote to {target}" in row
        else:
            assert "in every stage" in row
    assert pipeline["d"][7:19] in html  # short digests
    assert "all-docker" not in html  # a virtual repository is not a stage
    crumbs = re.search(r'<div class="crumbs">(.*?)</div>', html, re.S).group(1)
    assert f'href="/repositories/docker-local/{IMAGE}/"' in crumbs  # back to the image in its first stage


def test_grid_only_shows_the_stages_the_caller_may_read(client, pipeline, plain_user, grant):
    for key in ("docker-local", "docker-prod"):
        grant(plain_user, Repository.objects.get(key=key), "read")
    client.force_login(plain_user)
    grid = client.get("/api/stages/", {"image": IMAGE}).json()
    assert [r["key"] for r in grid["repositories"]] == ["docker-local", "docker-prod"]
    assert [c["state"] for c in grid["results"][2]["cells"]] == ["present", "different"]  # 2.0: c, then d
    assert client.get("/stages/nothing-here/").status_code == 404
    assert client.get("/api/stages/", {"image": "nothing-here"}).status_code == 404
    assert client.get("/api/stages/", {"image": "../x"}).status_code == 400


def test_sixty_tags_page_within_the_budget(admin_client, source, target, django_assert_max_num_queries):
    for number in range(60):
        push_index(source, IMAGE, f"v{number:03d}", payload=str(number).encode())
    with django_assert_max_num_queries(BUDGET):
        first = admin_client.get("/api/stages/", {"image": IMAGE}).json()
    with django_assert_max_num_queries(BUDGET):
        second = admin_client.get("/api/stages/", {"image": IMAGE, "page": 2}).json()
    assert (first["count"], first["pages"], len(first["results"]), len(second["results"])) == (60, 2, 50, 10)


def test_seeded_repositories_are_the_first_two_stages(db):
    local, target = repositories_seed_defaults()
    assert [(r.key, r.stage, r.stage_order) for r in (local, target)] == [
        ("docker-local", "dev", 10),
        ("docker-target", "release", 20),
    ]


def test_the_grid_and_expected_digest_are_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    stages = schema["paths"]["/api/stages/"]["get"]
    assert {p["name"] for p in stages["parameters"]} >= {"image", "page"}
    assert stages["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/StageGrid")
    cell = schema["components"]["schemas"]["StageCell"]["properties"]
    assert set(cell) == {"repository", "state", "digest", "platforms", "attestations"}
    assert "expected_digest" in schema["components"]["schemas"]["PromotionCreate"]["properties"]
