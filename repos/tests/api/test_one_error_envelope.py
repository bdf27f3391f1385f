"""Every app's REST API answers every error in the one envelope (config/api_errors.py):
`{"errors": [{"status", "code", "message", "detail"}]}`, whether DRF, a view or a domain service refused."""

import json

import pytest
from django.test import Client

from accounts.models import RepositoryGrant
from builds.models import BuildJob
from repos.models import PromotionJob
from repos.promotion.api import job_response
from repos.promotion.jobs import promotion_job_run
from repos.tests.promotion.content import push_index
from tests.support.factories import RepositoryFactory

IMAGE = "multiarch-image"


def error_of(response, status: int, code: str) -> dict:
    """The one error of an answer in the envelope, after checking its shape, status and code."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert set(error) == {"status", "code", "message", "detail"}, error
    assert error["status"] == status and error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    return error


@pytest.fixture
def scene(db, blob_storage, django_user_model):
    admin = django_user_model.objects.create_superuser(username="root", password="pw-root-12345")
    reader = django_user_model.objects.create_user(username="reader", password="pw-reader-12345")
    local = RepositoryFactory(key="docker-local")
    target = RepositoryFactory(key="docker-target")
    public = RepositoryFactory(key="docker-public", is_public=True)
    RepositoryGrant.objects.create(user=reader, repository=local, permission="read")
    as_admin, as_reader = Client(), Client()
    as_admin.force_login(admin)
    as_reader.force_login(reader)
    return {
        "admin": as_admin,
        "reader": as_reader,
        "anonymous": Client(),
        "admin_user": admin,
        "local": local,
        "target": target,
        "public": public,
    }


def call(scene, who: str, method: str, path: str, body=None):
    data = json.dumps(body) if body is not None else None
    return scene[who].generic(method, path, data=data or "", content_type="application/json")


# (who, method, path, body) -> a 400 INVALID whose detail names the field at fault.
INVALID = [
    ("admin", "POST", "/api/repositories/", {"key": "Bad Key!"}, "key"),  # serializer
    ("admin", "POST", "/api/repositories/", {"key": "fine", "colour": "red"}, "colour"),  # view
    ("admin", "PATCH", "/api/repositories/docker-local/policy/", {"colour": "red"}, "colour"),  # view
    ("admin", "POST", "/api/users/", {"username": "x", "password": "short"}, "password"),  # accounts service
    ("admin", "POST", "/api/repositories/docker-local/grants/", {"user": "nobody", "permission": "read"}, "user"),
    ("admin", "POST", "/api/tokens/", {"name": "", "permissions": ["read"]}, "name"),
    ("admin", "POST", "/api/builds/", {"repository": "docker-local", "image": "app"}, "platforms"),  # build service
    ("admin", "POST", "/api/builds/", {"repository": "nope", "image": "app"}, "repository"),
    ("admin", "GET", "/api/builds/0/log?start=x", None, None),
    ("admin", "POST", "/api/webhooks/", {"url": "https://example.com/h", "events": [], "secret": "12345678"}, "events"),
    ("admin", "GET", "/api/alerts/?state=closed", None, "state"),
    ("admin", "PUT", "/api/repositories/docker-local/smoke-test/", {"command": []}, "command"),
    ("admin", "POST", "/api/alerts/1/acknowledge/", {"reason": ""}, "reason"),
    ("admin", "POST", "/api/promotions/", {"image": IMAGE}, "source_repository"),
    ("admin", "POST", "/api/docker/docker-local/v2/promote", {"dockerRepository": IMAGE}, "targetRepo"),
]


@pytest.mark.parametrize("who, method, path, body, field", INVALID)
def test_invalid_input_is_400_invalid_with_the_field_in_detail(scene, who, method, path, body, field):
    if path.startswith("/api/builds/0/"):
        job = BuildJob.objects.create(
            requested_by=scene["admin_user"], repository_key="docker-local", image_name="app", time_limit=60
        )
        path = path.replace("/0/", f"/{job.pk}/")
    error = error_of(call(scene, who, method, path, body), 400, "INVALID")
    if field:
        assert field in error["detail"] and error["detail"][field], error
        assert field in error["message"] or error["detail"][field][0] in error["message"]


def test_a_malformed_json_body_is_400(scene):
    response = scene["admin"].post("/api/promotions/", data="{not json", content_type="application/json")
    error_of(response, 400, "INVALID_BODY")


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/tokens/"),
        ("GET", "/api/users/me/"),
        ("GET", "/api/webhooks/"),
        ("POST", "/api/builds/"),
        ("POST", "/api/promotions/"),
        ("POST", "/api/docker/docker-local/v2/promote"),
        ("POST", "/api/repositories/"),
        ("POST", "/api/alerts/1/acknowledge/"),
    ],
)
def test_anonymous_callers_get_401_unauthorized(scene, method, path):
    response = call(scene, "anonymous", method, path, {})
    error_of(response, 401, "UNAUTHORIZED")
    assert response["WWW-Authenticate"]


def test_bad_credentials_get_401_unauthorized(scene):
    response = Client().get("/api/repositories/", HTTP_AUTHORIZATION="Bearer not-a-token")
    error_of(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "who, method, path, body",
    [
        ("reader", "POST", "/api/users/", {"username": "x", "password": "a long password 1"}),  # DRF permission
        ("reader", "POST", "/api/repositories/", {"key": "new"}),  # Django PermissionDenied from a service
        ("reader", "PATCH", "/api/repositories/docker-local/policy/", {"retention_keep_newest": 1}),
        ("reader", "POST", "/api/repositories/docker-local/grants/", {"user": "reader", "permission": "write"}),
        ("reader", "POST", "/api/builds/", {"repository": "docker-public", "image": "app"}),  # BuildDenied
        ("reader", "POST", "/api/webhooks/", {"url": "https://example.com/h", "events": ["push"], "secret": "x" * 8}),
        ("reader", "PUT", "/api/repositories/docker-local/smoke-test/", {"command": ["/app"]}),
    ],
)
def test_refused_callers_get_403_denied(scene, who, method, path, body):
    error_of(call(scene, who, method, path, body), 403, "DENIED")


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/repositories/nope/"),
        ("GET", "/api/repositories/docker-target/storage/"),  # exists, not readable: the same answer
        ("GET", "/api/repositories/nope/grants/"),
        ("GET", "/api/tokens/999999/"),
        ("GET", "/api/builds/999999/"),
        ("GET", "/api/promotions/999999/"),
        ("GET", "/api/alerts/999999/"),
        ("GET", "/api/repositories/docker-local/smoke-test/"),
        ("POST", "/api/alerts/999999/acknowledge/"),
        ("GET", "/api/no-such-endpoint/"),
    ],
)
def test_unknown_or_unreadable_objects_are_404_not_found(scene, method, path):
    error_of(call(scene, "reader", method, path, {"reason": "seen"} if method == "POST" else None), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "method, path",
    [("PUT", "/api/repositories/docker-local/"), ("DELETE", "/api/builds/"), ("PUT", "/api/promotions/")],
)
def test_unsupported_methods_are_405(scene, method, path):
    error_of(call(scene, "admin", method, path, {}), 405, "METHOD_NOT_ALLOWED")


def test_a_promotion_rule_refusal_is_409_with_its_rule(scene):
    pushed = push_index(scene["local"], IMAGE, "latest")
    body = {
        "source_repository": "docker-local",
        "image": IMAGE,
        "target_repository": "docker-target",
        "source_tag": "latest",
        "expected_digest": "sha256:" + "0" * 64,
    }
    error = error_of(call(scene, "admin", "POST", "/api/promotions/", body), 409, "PROMOTION_REFUSED")
    [refusal] = error["detail"]["refusals"]
    assert refusal["rule"] == "source-changed"
    assert refusal["detail"]["changed"][0]["current"] == pushed.digest
    assert not PromotionJob.objects.exists()


def test_a_failed_job_answers_the_envelope_with_the_job_beside_it(scene, settings):
    settings.PROMOTION_WAIT_SECONDS = 0
    scene["target"].required_platforms = ["linux/s390x"]
    scene["target"].save()
    push_index(scene["local"], IMAGE, "latest")
    body = {"source_repository": "docker-local", "image": IMAGE, "target_repository": "docker-target"}
    queued = call(scene, "admin", "POST", "/api/promotions/", body)
    assert queued.status_code == 202, queued.content
    job = promotion_job_run(job_id=queued.json()["id"])
    response = job_response(job)
    assert response.status_code == 409 and set(response.data) == {"errors", "job"}
    [error] = response.data["errors"]
    assert error["code"] == "PROMOTION_REFUSED" and error["status"] == 409
    assert [r["rule"] for r in error["detail"]["refusals"]] == ["required-platforms"]
    assert response.data["job"]["status"] == "failed"


def test_other_conflicts_are_409_with_their_code(scene):
    finished = BuildJob.objects.create(
        requested_by=scene["admin_user"],
        repository_key="docker-local",
        image_name="app",
        time_limit=60,
        status=BuildJob.Status.SUCCEEDED,
    )
    error = error_of(call(scene, "admin", "POST", f"/api/builds/{finished.pk}/cancel/", None), 409, "BUILD_CONFLICT")
    assert error["detail"] == {"status": "succeeded"}
    push_index(scene["local"], IMAGE, "latest")
    error_of(call(scene, "admin", "DELETE", "/api/repositories/docker-local/", None), 409, "NOT_EMPTY")
