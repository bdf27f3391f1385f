"""Alerts through /api/alerts/ (filters, acknowledge with a reason, write access) and on the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services.grants import grant_create
from insights.models import Alert

AMD, ARM = "linux/amd64", "linux/arm64"


@pytest.fixture
def regression(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="1.1", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.2", platforms=[AMD])
    return Alert.objects.get()


def _client_for(django_user_model, username, *, repository=None, permission=None, actor=None):
    user = django_user_model.objects.create_user(username=username, password=None)
    if permission:
        grant_create(actor=actor, repository=repository, permission=permission, user=user)
    client = Client()
    client.force_login(user)
    return client


def test_api_lists_and_filters(admin_client, regression):
    body = admin_client.get("/api/alerts/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["kind"] == "platform-regression" and row["repository"] == "docker-local"
    assert row["image"] == "webapp" and row["tag"] == "1.2" and row["open"] is True
    assert row["details"]["lost"] == [ARM]
    for query, count in [
        ("repository=docker-local", 1),
        ("repository=docker-target", 0),
        ("image=webapp", 1),
        ("image=other", 0),
        ("kind=platform-regression", 1),
        ("kind=parity", 0),
        ("state=open", 1),
        ("state=acknowledged", 0),
    ]:
        assert admin_client.get(f"/api/alerts/?{query}").json()["count"] == count, query
    assert admin_client.get("/api/alerts/?state=maybe").status_code == 400
    assert admin_client.get("/api/alerts/?kind=nope").status_code == 400


def test_acknowledge_needs_write_and_a_reason(admin_client, regression, django_user_model, stages):
    admin = django_user_model.objects.get(username="dash-admin")
    reader = _client_for(django_user_model, "reader", repository=stages[0], permission="read", actor=admin)
    writer = _client_for(django_user_model, "writer", repository=stages[0], permission="write", actor=admin)
    stranger = _client_for(django_user_model, "stranger")
    url = f"/api/alerts/{regression.pk}/acknowledge/"
    assert stranger.get("/api/alerts/").json()["count"] == 0
    assert stranger.post(url, {"reason": "x"}, content_type="application/json").status_code == 404
    assert reader.post(url, {"reason": "x"}, content_type="application/json").status_code == 403
    assert writer.post(url, {"reason": ""}, content_type="application/json").status_code == 400
    assert Client().post(url, {"reason": "x"}, content_type="application/json").status_code in (401, 403)
    regression.refresh_from_db()
    assert regression.is_open
    response = writer.post(url, {"reason": "arm64 dropped on purpose"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_by"] == "writer"
    assert admin_client.get("/api/alerts/?state=acknowledged").json()["results"][0]["acknowledge_reason"] == (
        "arm64 dropped on purpose"
    )


def test_pages_show_open_alerts_and_acknowledge_from_the_browser(admin_client, regression):
    message = "webapp:1.2 lacks linux/arm64"
    for url in ["/", "/repositories/docker-local/webapp/", "/repositories/docker-local/webapp/-/tags/1.2/", "/alerts/"]:
        page = admin_client.get(url)
        assert page.status_code == 200 and message in page.content.decode(), url
    assert message not in admin_client.get("/repositories/docker-local/webapp/-/tags/1.1/").content.decode()
    response = admin_client.post(
        f"/alerts/{regression.pk}/acknowledge/", {"reason": "known", "next": "/repositories/docker-local/webapp/"}
    )
    assert response.status_code == 302 and response["Location"] == "/repositories/docker-local/webapp/"
    assert message not in admin_client.get("/").content.decode()
    assert "known" in admin_client.get("/alerts/?state=acknowledged").content.decode()


def test_readers_see_alerts_without_the_acknowledge_form(admin_client, regression, django_user_model, stages):
    admin = django_user_model.objects.get(username="dash-admin")
    reader = _client_for(django_user_model, "reader", repository=stages[0], permission="read", actor=admin)
    for url in ["/repositories/docker-local/webapp/", "/alerts/"]:
        page = reader.get(url).content.decode()
        assert "webapp:1.2 lacks linux/arm64" in page and "Acknowledge</button>" not in page, url
    assert "Acknowledge</button>" in admin_client.get("/alerts/").content.decode()


def test_coverage_matrix_marks_tags_with_open_alerts(admin_client, regression):
    page = admin_client.get("/coverage/").content.decode()
    assert "1 alert</a>" in page
