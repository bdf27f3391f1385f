"""Webhooks: who may register them, what a URL must be, and a signed attempt logged against a real listener."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services.grants import grant_create
from insights.models import WebhookDelivery
from insights.services.webhooks import delivery_attempt, event_dispatch
from insights.tests.e2e.listener import start_listener

SECRET = "a-secret-value"


def _user_client(django_user_model, username):
    user = django_user_model.objects.create_user(username=username, password=None)
    client = Client()
    client.force_login(user)
    return user, client


def test_repository_admins_register_for_their_repository_only(admin_client, stages, django_user_model, settings):
    settings.UPSTREAM_ALLOW_PRIVATE = True
    admin = django_user_model.objects.get(username="dash-admin")
    owner, owner_client = _user_client(django_user_model, "owner")
    grant_create(actor=admin, repository=stages[0], permission="admin", user=owner)
    body = {"url": "http://127.0.0.1:9/hook", "events": ["push"], "secret": SECRET}
    assert (
        owner_client.post(
            "/api/webhooks/", {**body, "repository": "docker-local"}, content_type="application/json"
        ).status_code
        == 201
    )
    assert (
        owner_client.post(
            "/api/webhooks/", {**body, "repository": "docker-target"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert owner_client.post("/api/webhooks/", body, content_type="application/json").status_code == 403
    assert admin_client.post("/api/webhooks/", body, content_type="application/json").status_code == 201
    listed = owner_client.get("/api/webhooks/").json()
    assert [h["repository"] for h in listed["results"]] == ["docker-local"]
    assert "secret" not in listed["results"][0]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"events": ["push", "nope"]}, "events"),
        ({"events": []}, "events"),
        ({"secret": "short"}, "secret"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "http://169.254.169.254/"}, "url"),
    ],
)
def test_bad_input_is_refused_naming_the_field(admin_client, stages, change, field):
    body = {"url": "http://127.0.0.1:9/hook", "events": ["push"], "secret": SECRET, **change}
    response = admin_client.post("/api/webhooks/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["errors"][0]["detail"], response.content


def test_an_attempt_is_signed_and_logged(admin_client, stages, settings, django_capture_on_commit_callbacks):
    settings.UPSTREAM_ALLOW_PRIVATE = True
    listener = start_listener()
    listener.failures_left["/hook"] = 1
    try:
        created = admin_client.post(
            "/api/webhooks/",
            {"url": listener.url + "/hook", "events": ["alert"], "secret": SECRET},
            content_type="application/json",
        )
        assert created.status_code == 201
        with django_capture_on_commit_callbacks(execute=False):  # attempts run here, not through the broker
            event_dispatch(event="push", repository=stages[0], payload={"tag": "x"})  # not subscribed
            (delivery,) = event_dispatch(event="alert", repository=stages[0], payload={"tag": "1.2"})
        assert delivery_attempt(delivery) is False
        assert delivery.status == WebhookDelivery.Status.RETRYING and delivery.response_code == 500
        assert delivery_attempt(delivery) is True
        assert delivery.status == WebhookDelivery.Status.DELIVERED
        assert [a.response_code for a in delivery.attempt_log.all()] == [500, 200]
        first, second = listener.on("/hook")
        assert first.body == second.body and first.signature_valid(SECRET)
        assert first.headers["X-Registry-Delivery"] == str(delivery.delivery_id)
    finally:
        listener.server.shutdown()
