"""Browser login/logout, the tokens page, the audit log, and secrets kept out of logs."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from accounts.models import ApiToken, AuditEvent
from tests.support.world import NAME, PASSWORD, basic


def test_login_page_renders_in_the_site_layout(world):
    page = Client().get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="topbar"' in html and 'name="csrfmiddlewaretoken"' in html and 'name="password"' in html


@pytest.mark.parametrize("username", ["writer", "no-such-user"])
def test_failed_login_says_the_same_whether_or_not_the_user_exists(world, username):
    response = Client().post("/accounts/login/", {"username": username, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.target == f"user:{username}" and "wrong" not in str(event.detail)


def test_login_logout_are_audited_and_need_csrf(world):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/", {"username": "writer", "password": PASSWORD}).status_code == 403
    browser = Client()
    response = browser.post("/accounts/login/", {"username": "writer", "password": PASSWORD, "next": "/"})
    assert response.status_code == 302
    assert browser.post("/accounts/logout/").status_code in (200, 302)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [AuditEvent.Action.LOGIN, AuditEvent.Action.LOGOUT]


def test_tokens_page_shows_the_secret_once_and_revokes(world):
    browser = Client()
    browser.force_login(world.users["writer"])
    assert browser.get("/accounts/tokens/").status_code == 200
    created = browser.post(
        "/accounts/tokens/",
        {
            "name": "from the browser",
            "permissions": ["read", "write"],
            "repositories": [world.private.pk],
            "expires_in_days": 7,
        },
    )
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    secret = re.search(r'id="new-token-secret">(rgt_[^<]+)<', created.content.decode()).group(1)
    token = ApiToken.objects.get(name="from the browser")
    assert token.permissions == ["read", "write"] and list(token.repositories.all()) == [world.private]
    assert secret not in browser.get("/accounts/tokens/").content.decode()
    tags = Client().get(f"/v2/{NAME}/tags/list", HTTP_AUTHORIZATION=basic("writer", secret))
    assert tags.status_code == 200
    assert browser.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    tags = Client().get(f"/v2/{NAME}/tags/list", HTTP_AUTHORIZATION=basic("writer", secret))
    assert tags.status_code == 401
    # Someone else's token is not theirs to revoke, nor to know about.
    other = world.tokens["token_ro"][0]
    assert browser.post(f"/accounts/tokens/{other.pk}/revoke/").status_code == 404


def test_tokens_page_refuses_a_scope_beyond_the_creators_rights(world):
    browser = Client()
    browser.force_login(world.users["reader"])
    response = browser.post(
        "/accounts/tokens/",
        {"name": "too wide", "permissions": ["write"], "repositories": [world.private.pk], "expires_in_days": 7},
    )
    assert "you do not hold write on docker-local" in response.content.decode()
    assert not ApiToken.objects.filter(name="too wide").exists()


def test_audit_page_is_for_site_admins(world):
    assert Client().get("/accounts/audit/").status_code == 302  # to the login page
    browser = Client()
    browser.force_login(world.users["repo_admin"])
    assert browser.get("/accounts/audit/").status_code == 403
    admin = world.admin_client()
    page = admin.get("/accounts/audit/?action=token_created")
    assert page.status_code == 200 and "token_created" in page.content.decode()


def test_audit_page_names_and_filters_every_recorded_action(world):
    """Events other apps record (smoke tests, webhooks, alerts) read like the rest and can be picked in the filter."""
    from accounts.services.audit import audit_record

    audit_record(action="smoke_test.save", actor=world.users["site_admin"], target="docker-local", detail={})
    page = world.admin_client().get("/accounts/audit/?action=smoke_test.save").content.decode()
    assert '<option value="smoke_test.save" selected>Smoke Test Saved</option>' in page
    assert '<span class="badge plain">Smoke Test Saved</span>' in page


def test_admin_site_lists_grants_tokens_and_events(world):
    admin = world.admin_client()
    for path in (
        "/admin/accounts/repositorygrant/",
        "/admin/accounts/apitoken/",
        "/admin/accounts/auditevent/",
        "/admin/auth/group/",
        "/admin/auth/user/",
    ):
        assert admin.get(path).status_code == 200, path
    grant = world.private.grants.filter(user=world.users["promoter"]).get()
    response = admin.post(f"/admin/accounts/repositorygrant/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_REVOKED).count() == 1


def test_passwords_and_tokens_never_reach_logs_or_the_audit(world, caplog):
    caplog.set_level(logging.DEBUG)
    secret = world.tokens["token_rw"][1]
    wrong = "an-incorrect-password-9f3"
    Client().post("/accounts/login/", {"username": "writer", "password": wrong})
    Client().post("/accounts/login/", {"username": "writer", "password": PASSWORD})
    Client().get("/v2/token", {"scope": f"repository:{NAME}:pull"}, HTTP_AUTHORIZATION=basic("token", secret))
    Client().get("/v2/token", HTTP_AUTHORIZATION=basic("writer", wrong))
    Client().get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    Client().get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {secret}x")
    Client().get(f"/v2/{NAME}/tags/list", HTTP_AUTHORIZATION=basic("writer", wrong))
    created = (
        world.admin_client()
        .post("/api/tokens/", {"name": "n", "permissions": ["read"]}, content_type="application/json")
        .json()["token"]
    )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    audited = "\n".join(str(e.__dict__) for e in AuditEvent.objects.all())
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).count() >= 3
    for text in (PASSWORD, wrong, secret, created):
        assert text not in logged and text not in audited
