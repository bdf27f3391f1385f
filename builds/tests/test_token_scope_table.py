"""Issue 12, defect 4: an API token's rights on builds are the intersection of its scope and its creator's rights.

A table: build x caller x action, with the exact status. The writer requested builds in docker-local (where they
hold write) and in docker-target (where they hold nothing now: only being the requester is left); the site admin
requested one in docker-local. The callers are the writer with a password and the writer through tokens of
several scopes.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, RepositoryGrant
from accounts.services.tokens import token_create
from builds.models import BuildJob
from builds.tests.conftest import PASSWORD

# caller -> (permissions, repositories the token is limited to, None = every repository)
TOKENS = {
    "tok_target_read": (["read"], ["docker-target"]),
    "tok_target_write": (["read", "write"], ["docker-target"]),
    "tok_local_read": (["read"], ["docker-local"]),
    "tok_local_write": (["read", "write"], ["docker-local"]),
    "tok_all_read": (["read"], None),
    "tok_all_write": (["read", "write"], None),
    "tok_expired": (["read", "write"], None),
}
CALLERS = ["password", *TOKENS]
#                       password t_t_r t_t_w t_l_r t_l_w a_r  a_w  expired
SEE = {
    "own-local": (200, 404, 404, 200, 200, 200, 200, 401),
    "own-target": (200, 200, 200, 404, 404, 200, 200, 401),
    "admin-local": (200, 404, 404, 200, 200, 200, 200, 401),
}
CANCEL = {
    "own-local": (202, 404, 404, 403, 202, 403, 202, 401),
    "own-target": (202, 403, 202, 404, 404, 403, 202, 401),
    "admin-local": (202, 404, 404, 403, 202, 403, 202, 401),
}


def _basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


@pytest.fixture
def scene(people, repositories):
    local, target = repositories
    by_key = {"docker-local": local, "docker-target": target}

    def job(user, repository):
        return BuildJob.objects.create(
            requested_by=user,
            requested_by_name=user.username,
            repository=repository,
            repository_key=repository.key,
            image_name="app",
            platforms=["linux/amd64"],
            time_limit=600,
        )

    builds = {
        "own-local": job(people.writer, local),
        "own-target": job(people.writer, target),
        "admin-local": job(people.admin, local),
    }
    auth = {"password": _basic("writer", PASSWORD)}
    # The writer held write on docker-target when the tokens were made and has lost it since: there, only
    # being the requester of the build is left.
    lost = RepositoryGrant.objects.create(repository=target, user=people.writer, permission="write")
    for name, (permissions, keys) in TOKENS.items():
        token, secret = token_create(
            creator=people.writer,
            name=name,
            permissions=permissions,
            repositories=[by_key[k] for k in keys or []],
            expires_at=timezone.now() + timedelta(days=1),
        )
        if name == "tok_expired":
            ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        auth[name] = f"Bearer {secret}"
    lost.delete()
    return builds, auth


CASES = [
    pytest.param(build, caller, table[build][i], kind, id=f"{kind}-{build}-{caller}")
    for kind, table in (("see", SEE), ("cancel", CANCEL))
    for build in table
    for i, caller in enumerate(CALLERS)
]


@pytest.mark.parametrize("build,caller,expected,kind", CASES)
def test_builds_token_scope_table(scene, build, caller, expected, kind):
    builds, auth = scene
    job = builds[build]
    client = Client(HTTP_AUTHORIZATION=auth[caller])
    if kind == "see":
        detail = client.get(f"/api/builds/{job.pk}/")
        log = client.get(f"/api/builds/{job.pk}/log")
        assert (detail.status_code, log.status_code) == (expected, expected), detail.content
        listing = client.get("/api/builds/")
        if expected == 200:
            assert job.pk in {item["id"] for item in listing.json()["results"]}
        elif listing.status_code == 200:
            assert job.pk not in {item["id"] for item in listing.json()["results"]}
    else:
        response = client.post(f"/api/builds/{job.pk}/cancel/")
        assert response.status_code == expected, response.content
        job.refresh_from_db()
        assert job.cancel_requested == (expected == 202)


def test_the_issue_scenario_a_read_token_on_target_cannot_reach_local_builds(scene):
    """The token of the report: read on docker-target only. It sees the target build, cannot cancel it,
    and the creator's docker-local builds do not exist for it."""
    builds, auth = scene
    client = Client(HTTP_AUTHORIZATION=auth["tok_target_read"])
    listed = {item["id"] for item in client.get("/api/builds/").json()["results"]}
    assert listed == {builds["own-target"].pk}
    assert client.post(f"/api/builds/{builds['own-target'].pk}/cancel/").status_code == 403
    assert client.get(f"/api/builds/{builds['own-local'].pk}/log").status_code == 404


# --- the build's own credentials stay within the token it was asked through ---------------------------------


def _start_build(client_auth: str, settings) -> BuildJob:
    settings.BUILD_GIT_ALLOWED_HOSTS = ["127.0.0.1"]
    response = Client(HTTP_AUTHORIZATION=client_auth).post(
        "/api/builds/",
        data={
            "repository": "docker-local",
            "image": "app",
            "platforms": ["linux/amd64"],
            "git_url": "git://127.0.0.1:9/team/app.git",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return BuildJob.objects.get(pk=response.json()["id"])


def test_a_build_asked_through_a_token_pulls_only_what_the_token_reads(scene, settings):
    from builds.credentials import build_credential_issue, build_pull_credential_issue

    _, auth = scene
    job = _start_build(auth["tok_local_write"], settings)
    assert job.token_id is not None
    pull = build_pull_credential_issue(job=job)
    assert [r.key for r in pull.token.repositories.all()] == ["docker-local"]
    push = build_credential_issue(job=job)
    assert [r.key for r in push.token.repositories.all()] == ["docker-local"]

    with_password = _start_build(auth["password"], settings)
    assert with_password.token_id is None
    assert list(build_pull_credential_issue(job=with_password).token.repositories.all()) == []  # every readable one


def test_a_revoked_token_stops_the_builds_it_started(scene, settings):
    from builds.credentials import build_credential_issue, build_pull_credential_issue
    from builds.errors import BuildError

    _, auth = scene
    job = _start_build(auth["tok_local_write"], settings)
    ApiToken.objects.filter(pk=job.token_id).update(revoked_at=timezone.now())
    for issue in (build_credential_issue, build_pull_credential_issue):
        with pytest.raises(BuildError, match="revoked"):
            issue(job=job)
