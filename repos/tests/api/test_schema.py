"""The OpenAPI schema lists every REST endpoint, the accounts API included, with its answers."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_accounts_endpoints_are_in_the_schema_with_their_answers(schema):
    paths = schema["paths"]
    for path, method, statuses in (
        ("/api/users/", "get", {"200", "401", "403"}),
        ("/api/users/", "post", {"201", "400"}),
        ("/api/users/me/", "get", {"200"}),
        ("/api/users/{id}/", "patch", {"200", "404"}),
        ("/api/teams/", "post", {"201"}),
        ("/api/teams/{id}/", "delete", {"204", "404"}),
        ("/api/repositories/{key}/grants/", "post", {"201", "400"}),
        ("/api/repositories/{key}/visibility/", "put", {"200"}),
        ("/api/tokens/", "post", {"201"}),
        ("/api/tokens/{id}/", "delete", {"204"}),
        ("/api/audit-events/", "get", {"200"}),
    ):
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
    created = schema["components"]["schemas"]["TokenCreated"]["properties"]
    assert "token" in created  # the one-time secret is documented


def test_every_error_answer_is_the_one_envelope(schema):
    """Each operation documents its error answers, and every one of them is the ErrorEnvelope component."""
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    errors = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403"} <= set(responses), (path, method)
            if method in ("post", "put", "patch"):
                assert "400" in responses, (path, method)
            for status, response in responses.items():
                if status >= "400":
                    errors += 1
                    assert response["content"]["application/json"]["schema"] == envelope, (path, method, status)
    assert errors > 100
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"status", "code", "message", "detail"}
    assert schema["paths"]["/api/promotions/"]["post"]["responses"]["409"]["content"]
