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
from tenants.exceptions import InvalidToken
from tests.conftest import READ

ISSUER = "https://idp.test/realms/shop"
AUDIENCE = "customer-segment"


@pytest.fixture
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid: str) -> dict:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return jwk


class JwksServer:
    """A JWKS endpoint on loopback that counts its fetches; `keys` may change meanwhile."""

    def __init__(self, keys: list[dict]) -> None:
        self.keys = keys
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks(signing_key):
    server = JwksServer([public_jwk(signing_key, "key-1")])
    yield server
    server.close()


@pytest.fixture
def jwks_url(jwks):
    return jwks.url


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


@pytest.mark.django_db
class TestKeyFetching:
    def get(self, client, token):
        return client.get("/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {token}")

    def test_unknown_key_ids_refetch_the_keys_at_most_once(
        self, tenant, anon_client, external_issuer, signing_key, jwks
    ):
        assert self.get(anon_client, external_token(signing_key)).status_code == 200
        assert jwks.fetches == 1

        statuses = {
            self.get(anon_client, external_token(signing_key, kid=f"made-up-{n}")).status_code
            for n in range(20)
        }

        assert statuses == {401}
        assert jwks.fetches == 2

    def test_a_key_the_issuer_rotated_in_is_fetched_and_accepted(
        self, tenant, anon_client, external_issuer, signing_key, jwks
    ):
        assert self.get(anon_client, external_token(signing_key)).status_code == 200
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks.keys = [public_jwk(signing_key, "key-1"), public_jwk(new_key, "key-2")]

        assert self.get(anon_client, external_token(new_key, kid="key-2")).status_code == 200
        assert jwks.fetches == 2

    def test_after_the_interval_an_unknown_key_id_may_refetch_again(
        self, settings, external_issuer, signing_key, jwks, monkeypatch
    ):
        settings.EXTERNAL_TOKEN_JWKS_REFETCH_SECONDS = 1
        tokens.token_decode(external_token(signing_key))
        for n in range(3):
            with pytest.raises(InvalidToken):
                tokens.token_decode(external_token(signing_key, kid=f"made-up-{n}"))
        assert jwks.fetches == 2

        time.sleep(1.1)
        with pytest.raises(InvalidToken):
            tokens.token_decode(external_token(signing_key, kid="made-up-later"))

        assert jwks.fetches == 3

    def test_workers_share_the_interval_and_the_keys_one_of_them_fetched(
        self, external_issuer, signing_key, jwks
    ):
        """Two workers, each with its own key client, on one cache."""
        first, second = (tokens.JwksClient(jwks.url) for _ in range(2))
        first.get_signing_key("key-1")
        second.get_signing_key("key-1")
        assert jwks.fetches == 2
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks.keys = [public_jwk(signing_key, "key-1"), public_jwk(new_key, "key-2")]

        assert first.get_signing_key("key-2").key_id == "key-2"
        assert second.get_signing_key("key-2").key_id == "key-2"
        with pytest.raises(jwt.PyJWKClientError):
            second.get_signing_key("made-up")

        assert jwks.fetches == 3
