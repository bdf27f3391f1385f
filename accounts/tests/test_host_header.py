"""Issue 12, defect 9: the Host header is not trusted. Unknown hosts are refused; the token realm and the
password-reset link come from PUBLIC_URL (else an allowed request host); HTTPS settings come from the env."""

import re
import subprocess
import sys

import pytest
from django.core import mail
from django.test import Client

EVIL = "evil.example"


@pytest.mark.parametrize(
    "path", ["/", "/v2/", "/v2/token", "/accounts/login/", "/accounts/password_reset/", "/api/repositories/"]
)
def test_requests_for_an_unknown_host_are_refused(db, path):
    response = Client(HTTP_HOST=EVIL).get(path)
    assert response.status_code == 400
    assert EVIL not in response.get("WWW-Authenticate", "")


def test_the_default_hosts_serve_make_run_and_tests(db):
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "testserver"):
        assert Client(HTTP_HOST=host).get("/v2/").status_code == 401, host


def test_realm_follows_public_url_not_the_request(db, settings):
    settings.PUBLIC_URL = "https://registry.example.org"
    response = Client(HTTP_HOST="127.0.0.1:8000").get("/v2/")
    assert 'realm="https://registry.example.org/v2/token"' in response["WWW-Authenticate"]


def test_realm_without_public_url_is_an_allowed_host(db):
    response = Client(HTTP_HOST="localhost:8000").get("/v2/")
    assert 'realm="http://localhost:8000/v2/token"' in response["WWW-Authenticate"]


def test_password_reset_link_uses_public_url(db, settings, django_user_model):
    settings.PUBLIC_URL = "https://registry.example.org"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "registry.example.org"]
    django_user_model.objects.create_user("someone", email="someone@example.org", password="a long password")
    response = Client(HTTP_HOST="127.0.0.1:8000").post("/accounts/password_reset/", {"email": "someone@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    links = re.findall(r"https?://\S+", mail.outbox[0].body)
    assert links and all(link.startswith("https://registry.example.org/accounts/reset/") for link in links)


def test_pull_commands_name_the_public_host(db, settings, blob_storage, django_user_model):
    from tests.support.factories import RepositoryFactory

    settings.PUBLIC_URL = "https://registry.example.org"
    RepositoryFactory(key="docker-local", is_public=True)
    client = Client(HTTP_HOST="127.0.0.1:8000")
    client.force_login(django_user_model.objects.create_superuser("boss", password="a long password"))
    body = client.get("/").content.decode()
    assert "registry.example.org/docker-local" in body and "127.0.0.1:8000/docker-local" not in body


def _settings_in_a_fresh_process(env: dict) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'hosts': s.ALLOWED_HOSTS, 'secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
        "'hsts': s.SECURE_HSTS_SECONDS, 'proxy': bool(getattr(s, 'SECURE_PROXY_SSL_HEADER', None)), "
        "'origins': s.CSRF_TRUSTED_ORIGINS}))"
    )
    import json
    import os

    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PUBLIC_URL", "ALLOWED_HOSTS", "HOST", "SECURE_COOKIES", "HSTS_SECONDS", "TRUST_X_FORWARDED_PROTO")
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_settings_from_the_environment():
    default = _settings_in_a_fresh_process({})
    assert default["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert (default["secure"], default["csrf_secure"], default["hsts"], default["proxy"]) == (False, False, 0, False)
    public = _settings_in_a_fresh_process(
        {
            "PUBLIC_URL": "https://registry.example.org/",
            "SECURE_COOKIES": "true",
            "HSTS_SECONDS": "31536000",
            "TRUST_X_FORWARDED_PROTO": "true",
        }
    )
    assert "registry.example.org" in public["hosts"] and "*" not in public["hosts"]
    assert public["origins"] == ["https://registry.example.org"]
    assert (public["secure"], public["csrf_secure"], public["hsts"], public["proxy"]) == (True, True, 31536000, True)
