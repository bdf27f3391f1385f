"""Every /v2/ endpoint x every role x method, with the exact status codes.

Columns follow ROLES: anonymous, outsider (signed in, no grant), reader (through a team), writer,
deleter, promoter, repo admin, site admin, token_rw (writer's token, read+write), token_ro (site
admin's token, read only). `docker-local` is private; `public-repo` is public; `nope` does not exist.
Each role is run with Basic credentials and again through the token flow (a bearer JWT).
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.content import digest_of
from tests.support.world import NAME, ROLES, basic

OCI = "application/vnd.oci.image.manifest.v1+json"
OCTET = "application/octet-stream"
NEW_BLOB = b"fresh bytes for this request"

READ = (401, 404, 200, 200, 200, 200, 200, 200, 200, 200)
#        anon outs read writ dele prom radm sadm t_rw t_ro
V2_TABLE = [
    ("base", "GET", "/v2/", None, (401, 200, 200, 200, 200, 200, 200, 200, 200, 200)),
    ("catalog", "GET", "/v2/_catalog", None, (200,) * 10),
    ("tags", "GET", f"/v2/{NAME}/tags/list", None, READ),
    ("manifest-get", "GET", f"/v2/{NAME}/manifests/1.0", None, READ),
    ("manifest-head", "HEAD", f"/v2/{NAME}/manifests/1.0", None, READ),
    ("manifest-by-digest", "GET", f"/v2/{NAME}/manifests/{{manifest}}", None, READ),
    (
        "manifest-put-new-tag",
        "PUT",
        f"/v2/{NAME}/manifests/2.0",
        "manifest",
        (401, 404, 403, 201, 201, 403, 201, 201, 201, 403),
    ),
    # Moving a mutable tag is a push: write is enough (docs/auth.md), whatever the token's scope says.
    (
        "manifest-put-overwrite-tag",
        "PUT",
        f"/v2/{NAME}/manifests/1.0",
        "other",
        (401, 404, 403, 201, 201, 403, 201, 201, 201, 403),
    ),
    (
        "manifest-put-same-tag-again",
        "PUT",
        f"/v2/{NAME}/manifests/1.0",
        "manifest",
        (401, 404, 403, 201, 201, 403, 201, 201, 201, 403),
    ),
    (
        "manifest-delete",
        "DELETE",
        f"/v2/{NAME}/manifests/{{manifest}}",
        None,
        (401, 404, 403, 403, 202, 403, 202, 202, 403, 403),
    ),
    ("tag-delete", "DELETE", f"/v2/{NAME}/manifests/1.0", None, (401, 404, 403, 403, 202, 403, 202, 202, 403, 403)),
    ("blob-get", "GET", f"/v2/{NAME}/blobs/{{layer}}", None, READ),
    ("blob-head", "HEAD", f"/v2/{NAME}/blobs/{{layer}}", None, READ),
    ("blob-delete", "DELETE", f"/v2/{NAME}/blobs/{{loose}}", None, (401, 404, 403, 403, 202, 403, 202, 202, 403, 403)),
    ("upload-start", "POST", f"/v2/{NAME}/blobs/uploads/", None, (401, 404, 403, 202, 202, 403, 202, 202, 202, 403)),
    (
        "upload-monolithic",
        "POST",
        f"/v2/{NAME}/blobs/uploads/?digest={digest_of(NEW_BLOB)}",
        "blob",
        (401, 404, 403, 201, 201, 403, 201, 201, 201, 403),
    ),
    ("upload-status", "GET", "{upload}", None, (401, 404, 403, 204, 204, 403, 204, 204, 204, 403)),
    ("upload-patch", "PATCH", "{upload}", "blob", (401, 404, 403, 202, 202, 403, 202, 202, 202, 403)),
    (
        "upload-finish",
        "PUT",
        f"{{upload}}?digest={digest_of(NEW_BLOB)}",
        "blob",
        (401, 404, 403, 201, 201, 403, 201, 201, 201, 403),
    ),
    ("upload-cancel", "DELETE", "{upload}", None, (401, 404, 403, 204, 204, 403, 204, 204, 204, 403)),
    ("referrers", "GET", f"/v2/{NAME}/referrers/{{manifest}}", None, READ),
    (
        "mount-into-target",
        "POST",
        "/v2/docker-target/app/blobs/uploads/?mount={layer}&from=docker-local/app",
        None,
        (401, 404, 404, 404, 404, 404, 404, 201, 404, 404),
    ),
    # A public repository: everyone reads, anonymous included; writing needs a grant.
    ("public-tags", "GET", "/v2/public-repo/app/tags/list", None, (200,) * 10),
    ("public-blob", "GET", "/v2/public-repo/app/blobs/{public_blob}", None, (200,) * 10),
    (
        "public-push",
        "POST",
        "/v2/public-repo/app/blobs/uploads/",
        None,
        (401, 403, 403, 403, 403, 403, 403, 202, 403, 403),
    ),
    (
        "public-blob-delete",
        "DELETE",
        "/v2/public-repo/app/blobs/{public_blob}",
        None,
        (401, 403, 403, 403, 403, 403, 403, 202, 403, 403),
    ),
    # A repository that does not exist answers exactly like a private one the caller cannot read.
    ("missing-tags", "GET", "/v2/nope/app/tags/list", None, (401, 404, 404, 404, 404, 404, 404, 404, 404, 404)),
    ("missing-push", "POST", "/v2/nope/app/blobs/uploads/", None, (401, 404, 404, 404, 404, 404, 404, 404, 404, 404)),
]
# Through the token flow an anonymous caller holds a (pull-public-only) token, so it is no longer
# "no credentials": test_anonymous_bearer_token_sees_only_public covers it.
CASES = [
    pytest.param(case, role, case[4][index], mode, id=f"{case[0]}-{role}-{mode}")
    for mode in ("basic", "bearer")
    for case in V2_TABLE
    for index, role in enumerate(ROLES)
    if not (mode == "bearer" and role == "anonymous")
]


def _body(world, kind):
    if kind == "manifest":
        return world.manifest_raw, OCI
    if kind == "other":
        return world.other_raw, OCI
    if kind == "blob":
        return NEW_BLOB, OCTET
    return b"", OCTET


def _path(world, template: str) -> str:
    return template.format(
        manifest=world.manifest_digest,
        layer=world.layer_digest,
        loose=world.loose_digest,
        upload=world.new_upload() if "{upload}" in template else "",
        public_blob=world.public_blob,
    )


def _scope_of(path: str) -> list[str]:
    parts = path.split("?")[0].split("/")
    if len(parts) < 4 or parts[2] == "_catalog":
        return ["registry:catalog:*"]
    end = next(i for i, part in enumerate(parts) if part in ("tags", "manifests", "blobs", "referrers"))
    scopes = [f"repository:{'/'.join(parts[2:end])}:pull,push,delete"]
    if "from=" in path:
        scopes.append(f"repository:{path.split('from=')[1]}:pull")
    return scopes


def bearer_for(world, role: str, scopes: list[str]) -> dict:
    headers = world.v2_auth(role)
    response = Client().get("/v2/token", {"scope": scopes, "service": "multiarch-registry"}, **headers)
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def _check(response, expected: int, method: str):
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"].startswith('Bearer realm="http://testserver/v2/token"')
    if method != "HEAD" and expected in (403, 404) and response.content:
        code = response.json()["errors"][0]["code"]
        assert code == {403: "DENIED", 404: "NAME_UNKNOWN"}[expected]


@pytest.mark.parametrize("case,role,expected,mode", CASES)
def test_v2_permission_table(world, case, role, expected, mode):
    _, method, template, body_kind, _ = case
    path = _path(world, template)
    headers = world.v2_auth(role) if mode == "basic" else bearer_for(world, role, _scope_of(path))
    data, content_type = _body(world, body_kind)
    response = Client().generic(method, path, data=data, content_type=content_type, **headers)
    _check(response, expected, method)


def test_catalog_lists_only_readable_repositories(world):
    for role in ROLES:
        names = Client().get("/v2/_catalog", **world.v2_auth(role)).json()["repositories"]
        assert "public-repo/app" in names
        assert (NAME in names) == (role not in ("anonymous", "outsider")), role


@pytest.mark.parametrize("path", [f"/v2/{NAME}/tags/list", f"/v2/{NAME}/manifests/1.0", "/v2/nope/app/tags/list"])
def test_anonymous_bearer_token_sees_only_public(world, path):
    headers = bearer_for(world, "anonymous", _scope_of(path))
    response = Client().get(path, **headers)
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    public = Client().get(
        "/v2/public-repo/app/tags/list", **bearer_for(world, "anonymous", ["repository:public-repo/app:pull"])
    )
    assert public.status_code == 200 and public.json()["tags"] == ["1.0"]


@pytest.mark.parametrize(
    "method,path,actions",
    [
        ("GET", f"/v2/{NAME}/tags/list", "pull,push"),
        ("POST", f"/v2/{NAME}/blobs/uploads/", "pull,push"),
        ("DELETE", f"/v2/{NAME}/manifests/1.0", "pull,push,delete"),
        ("GET", "/v2/nope/app/tags/list", "pull,push"),
    ],
)
def test_challenge_names_the_scope_to_ask_for(world, method, path, actions):
    response = Client().generic(method, path)
    assert response.status_code == 401
    name = path.split("/")[2] + "/" + path.split("/")[3]
    assert response["WWW-Authenticate"] == (
        f'Bearer realm="http://testserver/v2/token",service="multiarch-registry",scope="repository:{name}:{actions}"'
    )
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_a_token_narrower_than_the_rights_gets_a_new_challenge(world):
    """A writer holding a pull-only token is told which scope to ask for, not refused."""
    headers = bearer_for(world, "writer", [f"repository:{NAME}:pull"])
    response = Client().post(f"/v2/{NAME}/blobs/uploads/", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].endswith(f'scope="repository:{NAME}:pull,push",error="insufficient_scope"')


def test_a_bearer_token_for_another_repository_is_insufficient_scope(world):
    headers = bearer_for(world, "site_admin", ["repository:public-repo/app:pull"])
    for path in (f"/v2/{NAME}/tags/list", "/v2/nope/app/tags/list"):
        response = Client().get(path, **headers)
        assert response.status_code == 401
        assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_session_writes_need_csrf(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["writer"])
    assert browser.get(f"/v2/{NAME}/tags/list").status_code == 200
    response = browser.post(f"/v2/{NAME}/blobs/uploads/")
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "DENIED"


@pytest.mark.parametrize(
    "header",
    [
        basic("writer", "wrong"),
        basic("no-such-user", "wrong"),
        basic("token", "rgt_0000_nope"),
        "Bearer not-a-jwt",
        "Bearer rgt_x_y",
        "Digest something",
        "Basic !!!",
    ],
)
def test_bad_credentials_are_401_with_one_message(world, header):
    response = Client().get(f"/v2/{NAME}/tags/list", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer realm=")
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("role", ["writer", "deleter", "repo_admin", "site_admin", "token_rw"])
def test_stock_client_tokens_move_a_tag(world, role):
    """docker, skopeo, buildah, podman and oras only ever ask for pull,push: enough to move a mutable tag."""
    headers = bearer_for(world, role, [f"repository:{NAME}:pull,push"])
    response = Client().put(f"/v2/{NAME}/manifests/1.0", data=world.other_raw, content_type=OCI, **headers)
    assert response.status_code == 201, response.content
    assert response["Docker-Content-Digest"] == digest_of(world.other_raw)


@pytest.mark.parametrize("role", ["writer", "site_admin"])
def test_an_immutable_repository_refuses_to_move_a_tag_naming_the_setting(world, role):
    world.private.tag_immutability = True
    world.private.save(update_fields=["tag_immutability"])
    headers = bearer_for(world, role, [f"repository:{NAME}:pull,push"])
    moved = Client().put(f"/v2/{NAME}/manifests/1.0", data=world.other_raw, content_type=OCI, **headers)
    assert moved.status_code == 403
    error = moved.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert "immutable tags" in error["message"] and "tag_immutability" in error["message"]
    assert error["detail"] == {"tag": "1.0", "repository": "docker-local", "setting": "tag_immutability"}
    # The same content again is not a move: accepted.
    again = Client().put(f"/v2/{NAME}/manifests/1.0", data=world.manifest_raw, content_type=OCI, **headers)
    assert again.status_code == 201, again.content
