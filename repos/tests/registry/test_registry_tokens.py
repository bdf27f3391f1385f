"""The token endpoint and the bearer tokens it signs: claims, intersection, and tampering refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from accounts.models import AuditEvent, RepositoryGrant
from repos.registry import tokens as registry_tokens
from tests.support.world import NAME, PASSWORD, basic

pytestmark = pytest.mark.usefixtures("fast_passwords")  # the world's cheap hasher, the tests' signing key

SERVICE = "multiarch-registry"
PUSH_SCOPE = f"repository:{NAME}:pull,push"


def get_token(world, role: str | None, *scopes: str, **params) -> dict:
    headers = world.v2_auth(role) if role else {}
    response = Client().get("/v2/token", {"service": SERVICE, "scope": list(scopes), **params}, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def claims_of(token: str) -> dict:
    return jwt.decode(token, registry_tokens.public_key_pem(), algorithms=["ES256"], audience=SERVICE)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def valid_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": registry_tokens.issuer(),
        "sub": "reader",
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "access": [{"type": "repository", "name": NAME, "actions": ["pull"]}],
    }
    claims.update(overrides)
    return claims


def sign(claims: dict, **headers) -> str:
    private, _, kid = registry_tokens.signing_keys()
    return jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid, **headers})


def tags_with(token: str):
    return Client().get(f"/v2/{NAME}/tags/list", HTTP_AUTHORIZATION=f"Bearer {token}")


def push_with(token: str):
    return Client().post(f"/v2/{NAME}/blobs/uploads/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_token_has_the_claims_and_grants_the_intersection(world):
    body = get_token(world, "reader", PUSH_SCOPE, "repository:public-repo/app:pull,push")
    assert body["token"] == body["access_token"] and body["expires_in"] >= 60
    claims = claims_of(body["token"])
    assert {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"} <= set(claims)
    assert claims["sub"] == "reader" and claims["aud"] == SERVICE and claims["exp"] - claims["iat"] >= 60
    assert claims["access"] == [
        {"type": "repository", "name": NAME, "actions": ["pull"]},
        {"type": "repository", "name": "public-repo/app", "actions": ["pull"]},
    ]
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "ES256" and "jwk" not in header
    assert claims_of(get_token(world, "reader", PUSH_SCOPE)["token"])["jti"] != claims["jti"]


def test_an_empty_grant_is_not_an_error(world):
    claims = claims_of(get_token(world, "outsider", PUSH_SCOPE, "repository:nope/app:pull")["token"])
    assert [entry["actions"] for entry in claims["access"]] == [[], []]
    anonymous = claims_of(get_token(world, None, PUSH_SCOPE, "repository:public-repo/app:pull,push")["token"])
    assert anonymous["sub"] == "" and [e["actions"] for e in anonymous["access"]] == [[], ["pull"]]


def test_writer_and_api_token_get_push(world):
    assert claims_of(get_token(world, "writer", PUSH_SCOPE)["token"])["access"][0]["actions"] == ["pull", "push"]
    claims = claims_of(get_token(world, "token_rw", f"repository:{NAME}:pull,push,delete")["token"])
    assert claims["sub"] == "writer" and claims["tok"] == world.tokens["token_rw"][0].pk
    assert claims["access"][0]["actions"] == ["pull", "push"]
    # The site admin's read-only token gets pull, whatever the admin could do with a password.
    ro = claims_of(get_token(world, "token_ro", f"repository:{NAME}:pull,push,delete")["token"])
    assert ro["access"][0]["actions"] == ["pull"]


def test_password_grant_post_and_refusals(world):
    response = Client().post(
        "/v2/token",
        {"grant_type": "password", "username": "writer", "password": PASSWORD, "service": SERVICE, "scope": PUSH_SCOPE},
    )
    assert response.status_code == 200
    assert claims_of(response.json()["access_token"])["access"][0]["actions"] == ["pull", "push"]
    assert Client().post("/v2/token", {"grant_type": "refresh_token"}).status_code == 400
    assert Client().get("/v2/token", {"service": "elsewhere"}).status_code == 400
    for credentials in (basic("writer", "nope"), basic("nobody", "nope"), "Basic ###"):
        refused = Client().get("/v2/token", {"service": SERVICE}, HTTP_AUTHORIZATION=credentials)
        assert refused.status_code == 401
        assert refused.json()["errors"][0] == {"code": "UNAUTHORIZED", "message": "invalid credentials", "detail": None}


def test_login_without_scope_is_audited(world):
    get_token(world, "writer", account="writer", offline_token="true")
    event = AuditEvent.objects.filter(action=AuditEvent.Action.REGISTRY_LOGIN).get()
    assert event.actor_name == "writer" and event.detail == {"via": "password"}


def test_a_token_works_on_v2_until_it_expires(world):
    token = get_token(world, "writer", PUSH_SCOPE)["token"]
    assert tags_with(token).status_code == 200
    assert push_with(token).status_code == 202
    assert Client().get("/v2/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def _unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def _tampered_tokens(world) -> dict[str, str]:
    good = get_token(world, "reader", PUSH_SCOPE)["token"]
    head, payload, signature = good.split(".")
    wider = json.loads(base64.urlsafe_b64decode(payload + "=="))
    wider["access"][0]["actions"] = ["pull", "push", "delete"]
    _, _, kid = registry_tokens.signing_keys()
    public_pem = registry_tokens.public_key_pem()
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, valid_claims()).encode()
    attacker = ec.generate_private_key(ec.SECP256R1())
    attacker_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(attacker.public_key()))
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    return {
        "bad signature": f"{head}.{payload}.{flipped}",
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, valid_claims()) + ".",
        "HS256 with the public key": hs_input.decode()
        + "."
        + b64(hmac.new(public_pem, hs_input, hashlib.sha256).digest()),
        "wrong aud": sign(valid_claims(aud="another-registry")),
        "wrong iss": sign(valid_claims(iss="somebody-else")),
        "expired": sign(
            valid_claims(exp=int(time.time()) - 120, iat=int(time.time()) - 600, nbf=int(time.time()) - 600)
        ),
        "nbf in the future": sign(valid_claims(nbf=int(time.time()) + 600)),
        "no jti": sign({k: v for k, v in valid_claims().items() if k != "jti"}),
        "access widened after signing": f"{head}.{b64(json.dumps(wider).encode())}.{signature}",
        "jwk header with its own key": jwt.encode(
            valid_claims(), attacker, algorithm="ES256", headers={"jwk": attacker_jwk}
        ),
        "jwk header on our own signature": sign(valid_claims(), jwk=attacker_jwk),
        "another key": jwt.encode(valid_claims(), attacker, algorithm="ES256", headers={"kid": kid}),
        "unknown user": sign(valid_claims(sub="ghost")),
        "garbage": "not.a.token",
    }


TAMPERED = [
    "bad signature",
    "alg none",
    "HS256 with the public key",
    "wrong aud",
    "wrong iss",
    "expired",
    "nbf in the future",
    "no jti",
    "access widened after signing",
    "jwk header with its own key",
    "jwk header on our own signature",
    "another key",
    "unknown user",
    "garbage",
]


@pytest.mark.parametrize("kind", TAMPERED)
def test_tampered_tokens_are_refused(world, kind):
    token = _tampered_tokens(world)[kind]
    for response in (tags_with(token), push_with(token), Client().get("/v2/", HTTP_AUTHORIZATION=f"Bearer {token}")):
        assert response.status_code == 401, (kind, response.content)
        assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_validly_signed_access_claim_wider_than_granted_still_gets_only_the_grant(world):
    """Even a token signed with the registry's own key cannot give a reader push: every request
    is also checked against the caller's permissions now."""
    token = sign(valid_claims(access=[{"type": "repository", "name": NAME, "actions": ["pull", "push", "delete"]}]))
    assert tags_with(token).status_code == 200
    refused = push_with(token)
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "DENIED"


def test_a_right_lost_after_the_token_was_issued_is_lost_at_once(world):
    token = get_token(world, "writer", PUSH_SCOPE)["token"]
    assert push_with(token).status_code == 202
    RepositoryGrant.objects.filter(user=world.users["writer"]).delete()
    assert push_with(token).status_code == 404


def test_signing_key_is_made_once_private_and_reused(tmp_path):
    path = tmp_path / "key.pem"
    first = registry_tokens.load_or_create_private_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = registry_tokens.load_or_create_private_key(path)
    assert first.private_numbers() == second.private_numbers()
