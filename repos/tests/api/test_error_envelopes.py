"""Issue 12, defect 5: errors Django raises before a view runs (a body over the limit, an unknown URL) answer
API clients in JSON (the REST envelope, the spec's envelope under /v2/), never an HTML page."""

import json

import pytest
from django.test import Client


@pytest.fixture
def signed_in(db, django_user_model):
    user = django_user_model.objects.create_user("someone", password="a long password")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/builds/",
        "/api/tokens/",
        "/api/docker/docker-local/v2/promote",
        "/api/promotions/",
        "/artifactory/api/docker/docker-local/v2/promote",
    ],
)
def test_oversized_rest_bodies_answer_json_413(signed_in, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = signed_in.post(path, data=body, content_type="application/json")
    assert response.status_code == 413, response.content[:200]
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["status"] == 413 and error["code"] == "TOO_LARGE"
    assert "larger than the limit" in error["message"]


def test_oversized_form_fields_answer_json_413(signed_in, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    response = signed_in.post("/api/builds/", data={"image": "x" * (70 * 1024)})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_api_paths_answer_json_404(db, method):
    response = Client().generic(method.upper(), "/api/no-such-endpoint/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"status": 404, "code": "NOT_FOUND", "message": "Not found.", "detail": None}]
    }


def test_pages_keep_their_html_error_page(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
