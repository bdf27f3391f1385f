"""Every accounts REST endpoint x every role x method, with the exact status codes.

Columns follow ROLES (see conftest). People authenticate with Basic (password), token roles with
`Authorization: Bearer <API token>`. The team `readers` has the reader as its only member.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.support.world import ROLES

J = "application/json"
#          anon outs read writ dele prom radm sadm t_rw t_ro
ANY = (401, 200, 200, 200, 200, 200, 200, 200, 200, 200)
PEOPLE = (401, 200, 200, 200, 200, 200, 200, 200, 403, 403)
GRANT_ADMIN = (401, 404, 403, 403, 403, 403, 200, 200, 403, 403)
API_TABLE = [
    ("users-list", "GET", "/api/users/", None, ANY),
    (
        "users-create",
        "POST",
        "/api/users/",
        {"username": "newbie", "password": "a long enough password"},
        (401, 403, 403, 403, 403, 403, 403, 201, 403, 403),
    ),
    ("users-me", "GET", "/api/users/me/", None, ANY),
    ("user-reader-get", "GET", "/api/users/{reader}/", None, (401, 404, 200, 404, 404, 404, 404, 200, 404, 404)),
    (
        "user-reader-patch",
        "PATCH",
        "/api/users/{reader}/",
        {"email": "r@example.org"},
        (401, 404, 403, 404, 404, 404, 404, 200, 404, 404),
    ),
    ("teams-list", "GET", "/api/teams/", None, PEOPLE),
    (
        "teams-create",
        "POST",
        "/api/teams/",
        {"name": "builders", "members": ["writer"]},
        (401, 403, 403, 403, 403, 403, 403, 201, 403, 403),
    ),
    ("team-get", "GET", "/api/teams/{team}/", None, (401, 404, 200, 404, 404, 404, 404, 200, 403, 403)),
    (
        "team-patch",
        "PATCH",
        "/api/teams/{team}/",
        {"members": ["reader", "writer"]},
        (401, 404, 403, 404, 404, 404, 404, 200, 403, 403),
    ),
    ("team-delete", "DELETE", "/api/teams/{team}/", None, (401, 404, 403, 404, 404, 404, 404, 204, 403, 403)),
    ("grants-list", "GET", "/api/repositories/docker-local/grants/", None, GRANT_ADMIN),
    (
        "grants-create",
        "POST",
        "/api/repositories/docker-local/grants/",
        {"user": "outsider", "permission": "read"},
        (401, 404, 403, 403, 403, 403, 201, 201, 403, 403),
    ),
    (
        "grant-delete",
        "DELETE",
        "/api/repositories/docker-local/grants/{grant}/",
        None,
        (401, 404, 403, 403, 403, 403, 204, 204, 403, 403),
    ),
    (
        "grants-missing-repo",
        "GET",
        "/api/repositories/nope/grants/",
        None,
        (401, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ),
    (
        "grants-public-repo",
        "GET",
        "/api/repositories/public-repo/grants/",
        None,
        (401, 403, 403, 403, 403, 403, 403, 200, 403, 403),
    ),
    (
        "visibility-get",
        "GET",
        "/api/repositories/docker-local/visibility/",
        None,
        (401, 404, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    (
        "visibility-put",
        "PUT",
        "/api/repositories/docker-local/visibility/",
        {"is_public": True},
        (401, 404, 403, 403, 403, 403, 200, 200, 403, 403),
    ),
    ("tokens-list", "GET", "/api/tokens/", None, PEOPLE),
    (
        "tokens-create",
        "POST",
        "/api/tokens/",
        {"name": "ci", "permissions": ["read"]},
        (401, 201, 201, 201, 201, 201, 201, 201, 403, 403),
    ),
    ("token-get", "GET", "/api/tokens/{token_rw}/", None, (401, 404, 404, 200, 404, 404, 404, 200, 403, 403)),
    ("token-revoke", "DELETE", "/api/tokens/{token_rw}/", None, (401, 404, 404, 204, 404, 404, 404, 204, 403, 403)),
    ("audit-list", "GET", "/api/audit-events/", None, (401, 403, 403, 403, 403, 403, 403, 200, 403, 403)),
]
CASES = [
    pytest.param(case, role, case[4][index], id=f"{case[0]}-{role}")
    for case in API_TABLE
    for index, role in enumerate(ROLES)
]


def _path(world, template: str) -> str:
    grant = world.private.grants.filter(user=world.users["writer"]).first()
    return template.format(
        reader=world.users["reader"].pk, team=world.team.pk, grant=grant.pk, token_rw=world.tokens["token_rw"][0].pk
    )


@pytest.mark.parametrize("case,role,expected", CASES)
def test_api_permission_table(world, case, role, expected):
    _, method, template, body, _ = case
    data = json.dumps(body) if body is not None else ""
    response = Client().generic(method, _path(world, template), data=data, content_type=J, **world.api_auth(role))
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_lists_show_only_what_the_caller_may_see(world):
    def names(role, path, key):
        response = Client().get(path, **world.api_auth(role))
        return sorted(item[key] for item in response.json()["results"])

    assert names("reader", "/api/users/", "username") == ["reader"]
    assert len(names("site_admin", "/api/users/", "username")) == 7
    assert names("reader", "/api/teams/", "name") == ["readers"]
    assert names("outsider", "/api/teams/", "name") == []
    assert names("writer", "/api/tokens/", "name") == ["ci"]
    assert names("outsider", "/api/tokens/", "name") == []
    assert names("site_admin", "/api/tokens/", "name") == ["ci", "ro"]


def test_basic_with_an_api_token_works_on_the_api(world):
    from tests.support.world import basic

    secret = world.tokens["token_rw"][1]
    for username in ("writer", "token"):
        response = Client().get("/api/users/me/", HTTP_AUTHORIZATION=basic(username, secret))
        assert response.status_code == 200 and response.json()["username"] == "writer"
    # A token presented under somebody else's name is refused like any bad password.
    assert Client().get("/api/users/me/", HTTP_AUTHORIZATION=basic("reader", secret)).status_code == 401


def test_session_writes_need_the_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["repo_admin"])
    assert browser.get("/api/repositories/docker-local/grants/").status_code == 200
    body = json.dumps({"user": "outsider", "permission": "read"})
    refused = browser.post("/api/repositories/docker-local/grants/", data=body, content_type=J)
    assert refused.status_code == 403 and "CSRF" in refused.json()["errors"][0]["message"]
    browser.get("/accounts/tokens/")  # any page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/repositories/docker-local/grants/", data=body, content_type=J, HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 201


@pytest.mark.parametrize("username", ["writer", "no-such-user"])
def test_bad_credentials_do_not_say_whether_the_user_exists(world, username):
    from tests.support.world import basic

    response = Client().get("/api/users/me/", HTTP_AUTHORIZATION=basic(username, "wrong password"))
    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"status": 401, "code": "UNAUTHORIZED", "message": "Invalid credentials.", "detail": None}]
    }


@pytest.mark.parametrize(
    "role,expected",
    [
        ("anonymous", {"public-repo"}),
        ("outsider", {"public-repo"}),
        ("reader", {"public-repo", "docker-local"}),
        ("token_ro", {"public-repo", "docker-local"}),  # the site admin's token: its scope, not the admin's reach
        ("site_admin", {"public-repo", "docker-local", "docker-target"}),
    ],
)
def test_the_same_authentication_serves_the_other_rest_endpoints(world, role, expected):
    """The REST authentication is project-wide: the repositories API filters by the same rules."""
    response = Client().get("/api/repositories/", **world.api_auth(role))
    assert response.status_code == 200, response.content
    body = response.json()
    items = body["results"] if isinstance(body, dict) else body
    assert {item["key"] for item in items} == expected
