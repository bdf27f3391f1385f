"""Issue 12, "keep the proof running": schemathesis over the OpenAPI schema, authenticated by the security schemes
the schema declares (Bearer API token, Basic) and anonymously. Every operation gets a bounded number of generated
cases through the WSGI app against the test database: 0 server errors, 0 responses contradicting the schema.

(Driven with hypothesis directly rather than schemathesis' pytest plugin, whose fixture loader does not run
under this pytest version.)
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
PASSWORD = "schemathesis password, long"
# Cases per operation and identity: bounded, so `make test` stays quick (48 operations).
EXAMPLES = {"api_token": 10, "basic": 5, "anonymous": 3}


@pytest.fixture
def identities(db, settings, blob_storage, django_user_model):
    from accounts.services.tokens import token_create
    from tests.support.factories import RepositoryFactory

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PROMOTION_WAIT_SECONDS = 0  # a promote call answers 202 at once instead of waiting for a worker
    settings.LOGIN_FAILURES_PER_ACCOUNT = settings.LOGIN_FAILURES_PER_ADDRESS = 0
    cache.clear()
    local = RepositoryFactory(key="docker-local")
    RepositoryFactory(key="docker-target", is_public=True)
    admin = django_user_model.objects.create_superuser("fuzz-admin", password=PASSWORD)
    _, secret = token_create(
        creator=admin,
        name="fuzz",
        permissions=["read", "write", "delete", "promote", "admin"],
        repositories=[local],
        expires_at=timezone.now() + timedelta(days=1),
    )
    basic = base64.b64encode(f"fuzz-admin:{PASSWORD}".encode()).decode()
    # Requests go through the real WSGI handler, which closes the database connection after each request;
    # the test's transaction must survive them (as Django's test client arranges for itself).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "api_token": {"Authorization": f"Bearer {secret}"},
            "basic": {"Authorization": f"Basic {basic}"},
            "anonymous": {},
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_openapi_schema_declares_token_and_basic_security(client, db):
    schema = client.get("/api/schema/?format=json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    assert schemes["basicAuth"] == {**schemes["basicAuth"], "type": "http", "scheme": "basic"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"apiToken": []} in operation["security"], (method, path)


@pytest.mark.parametrize("identity", sorted(EXAMPLES))
def test_schemathesis_finds_no_server_error_nor_schema_mismatch(identities, identity):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    headers = identities[identity]
    tried, failures, operations = 0, [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @hypothesis_settings(
            max_examples=EXAMPLES[identity],
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal tried
            tried += 1
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - keep going, report them all
                found = getattr(exc, "exceptions", [exc])
                failures.append(
                    f"{operation.method.upper()} {operation.path} -> {response.status_code}: "
                    + " | ".join(str(e)[:400] for e in found)
                )

        run()
    print(f"schemathesis [{identity}]: {operations} operations, {tried} cases, {len(failures)} failures")
    assert operations >= 40
    assert failures == [], "\n".join(failures[:20])
