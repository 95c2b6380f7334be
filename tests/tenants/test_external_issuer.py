"""Tokens of an external identity provider, verified with keys from its JWKS URL."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tenants import tokens
from tests.conftest import READ

ISSUER = "https://idp.test/realms/shop"
AUDIENCE = "customer-segment"


@pytest.fixture
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_url(signing_key):
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
def external_issuer(settings, jwks_url):
    settings.EXTERNAL_TOKEN_ISSUER = ISSUER
    settings.EXTERNAL_TOKEN_JWKS_URL = jwks_url
    settings.EXTERNAL_TOKEN_AUDIENCE = AUDIENCE
    tokens._jwks_client.cache_clear()
    yield
    tokens._jwks_client.cache_clear()


def external_token(key, *, kid="key-1", audience=AUDIENCE, **claims) -> str:
    payload = {
        "iss": ISSUER,
        "aud": audience,
        "sub": "user-1",
        "tenant": "acme",
        "scope": READ,
        "exp": int(time.time()) + 300,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@pytest.mark.django_db
class TestExternalIssuer:
    def test_accepted_with_the_same_claims(self, tenant, anon_client, external_issuer, signing_key):
        token = external_token(signing_key)
        response = anon_client.get(
            "/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 200

    def test_customer_claims_are_read(self, external_issuer, signing_key):
        token = external_token(
            signing_key,
            scope="customersegment.segment_read_own",
            customerId="c1",
            legalEntityId="le1",
        )
        claims = tokens.token_decode(token)
        assert (claims.customer_id, claims.legal_entity_id) == ("c1", "le1")

    def test_scopes_as_a_list_claim_are_read(self, external_issuer, signing_key):
        token = external_token(signing_key, scope=None, scp=[READ])
        assert tokens.token_decode(token).scopes == frozenset({READ})

    @pytest.mark.parametrize(
        "change",
        [
            {"audience": "someone-else"},
            {"kid": "unknown-key"},
            {"exp": int(time.time()) - 5},
        ],
    )
    def test_bad_tokens_are_401(self, tenant, anon_client, external_issuer, signing_key, change):
        token = external_token(signing_key, **change)
        response = anon_client.get(
            "/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 401

    def test_key_not_from_the_jwks_is_401(self, tenant, anon_client, external_issuer):
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = external_token(stranger)
        response = anon_client.get(
            "/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 401

    def test_external_tokens_are_refused_when_not_configured(
        self, tenant, anon_client, signing_key
    ):
        token = external_token(signing_key)
        response = anon_client.get(
            "/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 401
