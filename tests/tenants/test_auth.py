"""The authentication and scope matrix, through HTTP on a real tenant endpoint."""

from __future__ import annotations

import time

import jwt
import pytest
from django.conf import settings
from django.test import override_settings

from tenants import tokens
from tests.conftest import MANAGE, READ, READ_OWN

INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid access token",
        "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
    }
}
URL = "/customer-segment/acme/segments"


def get(client, url=URL, token=None, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(url, **headers)


@pytest.mark.django_db
class TestUnauthenticated:
    def test_no_token_is_401_with_the_fault_body(self, tenant, anon_client):
        response = anon_client.get(URL)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN
        assert response["WWW-Authenticate"] == "Bearer"
        assert response["Content-Type"] == "application/json"

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer",
            "Bearer not-a-jwt",
            "Bearer a.b.c",
            "Basic dXNlcjpwYXNz",
            "Token abc",
            "Bearer x y",
        ],
    )
    def test_malformed_authorization_is_401(self, tenant, anon_client, header):
        response = anon_client.get(URL, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN

    def test_expired_token_is_401(self, tenant, anon_client):
        now = int(time.time())
        token = jwt.encode(
            {
                "iss": settings.TOKEN_ISSUER,
                "tenant": "acme",
                "scope": READ,
                "iat": now - 7200,
                "exp": now - 10,
            },
            settings.TOKEN_SIGNING_KEY,
            algorithm="HS256",
        )
        assert get(anon_client, token=token).status_code == 401

    def test_wrong_signature_is_401(self, tenant, anon_client):
        now = int(time.time())
        token = jwt.encode(
            {"iss": settings.TOKEN_ISSUER, "tenant": "acme", "scope": READ, "exp": now + 60},
            "another-key-entirely-another-key-entirely",
            algorithm="HS256",
        )
        response = get(anon_client, token=token)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN

    def test_unsigned_token_is_401(self, tenant, anon_client):
        token = jwt.encode(
            {
                "iss": settings.TOKEN_ISSUER,
                "tenant": "acme",
                "scope": READ,
                "exp": int(time.time()) + 60,
            },
            None,
            algorithm="none",
        )
        assert get(anon_client, token=token).status_code == 401

    def test_token_without_tenant_claim_is_401(self, tenant, anon_client):
        token = jwt.encode(
            {"iss": settings.TOKEN_ISSUER, "scope": READ, "exp": int(time.time()) + 60},
            settings.TOKEN_SIGNING_KEY,
            algorithm="HS256",
        )
        assert get(anon_client, token=token).status_code == 401

    def test_token_of_another_issuer_is_401(self, tenant, anon_client):
        token = jwt.encode(
            {"iss": "someone-else", "tenant": "acme", "scope": READ, "exp": int(time.time()) + 60},
            settings.TOKEN_SIGNING_KEY,
            algorithm="HS256",
        )
        assert get(anon_client, token=token).status_code == 401


@pytest.mark.django_db
class TestScopesAndTenants:
    def test_right_scope_is_200(self, tenant, anon_client, make_token):
        response = get(anon_client, token=make_token(tenant, READ))
        assert response.status_code == 200
        assert response.json() == []

    def test_missing_scope_is_403_with_error_body(self, tenant, anon_client, make_token):
        response = get(anon_client, token=make_token(tenant, MANAGE))
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == 403
        assert body["status"] == "Forbidden"
        assert "customersegment.segment_read" in body["message"]

    def test_token_without_scopes_is_403(self, tenant, anon_client, make_token):
        assert get(anon_client, token=make_token(tenant)).status_code == 403

    def test_other_tenants_token_is_403(self, tenant, other_tenant, anon_client, make_token):
        response = get(anon_client, token=make_token(other_tenant, READ))
        assert response.status_code == 403
        assert response.json()["code"] == 403
        assert "another tenant" in response.json()["message"]

    def test_unknown_tenant_is_404_with_error_body(self, db, anon_client, make_token):
        response = get(
            anon_client, "/customer-segment/nosuch/segments", token=make_token("nosuch", READ)
        )
        assert response.status_code == 404
        assert response.json() == {
            "code": 404,
            "status": "Not Found",
            "message": "Tenant 'nosuch' does not exist.",
            "resourceId": "nosuch",
        }

    @pytest.mark.parametrize("name", ["Acme", "ab", "1acme", "acme-x", "a" * 17, "acme_x", "ACME"])
    def test_tenant_names_that_break_the_rule_are_400(self, db, anon_client, make_token, name):
        response = get(
            anon_client, f"/customer-segment/{name}/segments", token=make_token(name, READ)
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == 400
        assert body["status"] == "Bad Request"
        assert "^[a-z][a-z0-9]+$" in body["message"]

    def test_read_own_token_without_customer_is_403(self, tenant, anon_client, make_token):
        response = get(anon_client, token=make_token(tenant, READ_OWN))
        assert response.status_code == 403

    def test_customer_token_is_accepted(self, tenant, anon_client, make_token):
        response = get(anon_client, token=make_token(tenant, READ_OWN, customer="c1"))
        assert response.status_code == 200
        assert response.json() == []


@pytest.mark.django_db
class TestVerifiedTokens:
    """A worker verifies a token of ours once and keeps its claims; what refuses a token
    refuses it all the same afterwards."""

    def test_a_token_is_verified_once(self, tenant, anon_client, make_token, monkeypatch):
        verified = []
        verify = tokens._token_verify
        monkeypatch.setattr(
            tokens, "_token_verify", lambda raw: verified.append(raw) or verify(raw)
        )
        token = make_token(tenant, READ)

        assert [get(anon_client, token=token).status_code for _ in range(3)] == [200] * 3

        assert verified == [token]

    def test_a_kept_token_is_refused_once_it_expires(self, tenant, anon_client):
        exp = int(time.time()) + 2
        token = jwt.encode(
            {"iss": settings.TOKEN_ISSUER, "tenant": "acme", "scope": READ, "exp": exp},
            settings.TOKEN_SIGNING_KEY,
            algorithm="HS256",
        )
        assert get(anon_client, token=token).status_code == 200

        time.sleep(max(0.0, exp - time.time()) + 0.05)

        response = get(anon_client, token=token)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN
        assert response["WWW-Authenticate"] == "Bearer"

    def test_a_new_signing_key_refuses_tokens_kept_under_the_old(
        self, tenant, anon_client, make_token
    ):
        token = make_token(tenant, READ)
        assert get(anon_client, token=token).status_code == 200

        with override_settings(TOKEN_SIGNING_KEY="a-rotated-signing-key-a-rotated-signing-key"):
            response = get(anon_client, token=token)

        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN
        assert get(anon_client, token=token).status_code == 200  # the old key back

    def test_the_kept_tokens_are_bounded(self, tenant, anon_client, make_token, monkeypatch):
        monkeypatch.setattr(tokens, "VERIFIED_TOKENS_MAX", 3)
        tokens.verified_tokens_forget()
        issued = [make_token(tenant, READ, ttl=60 + n) for n in range(5)]

        for token in issued:
            assert get(anon_client, token=token).status_code == 200

        assert [raw for raw, _ in tokens._verified] == issued[2:]

    def test_an_external_issuers_tokens_are_not_kept(self, monkeypatch):
        # Its key set may drop a key at any time, so each of its tokens is verified on every
        # request (tests/tenants/test_external_issuer.py covers them over HTTP).
        claims = tokens.TokenClaims(tenant="acme", scopes=frozenset(), expires_at=2**40)
        verified = []
        monkeypatch.setattr(
            tokens, "_token_verify", lambda raw: verified.append(raw) or (claims, True)
        )
        tokens.verified_tokens_forget()

        assert [tokens.token_decode("external") for _ in range(2)] == [claims, claims]

        assert verified == ["external", "external"]
        assert not tokens._verified
