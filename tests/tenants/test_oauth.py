"""`POST /oauth/token`: the client-credentials grant, through HTTP."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from tenants.services import api_client_create, api_client_revoke
from tests.conftest import MANAGE, READ

URL = "/oauth/token"


@pytest.fixture
def issued(tenant):
    return api_client_create(tenant=tenant, scopes=f"{READ} {MANAGE}", name="storefront")


def post(client, data, **extra):
    """POST form-encoded, as OAuth2 clients do."""
    return client.post(
        URL, urlencode(data), content_type="application/x-www-form-urlencoded", **extra
    )


@pytest.mark.django_db
class TestClientCredentials:
    def test_good_credentials_give_a_bearer_token_that_opens_the_api(self, anon_client, issued):
        response = post(
            anon_client,
            {
                "grant_type": "client_credentials",
                "client_id": issued.client.client_id,
                "client_secret": issued.client_secret,
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["scope"] == f"{READ} {MANAGE}"
        assert response["Cache-Control"] == "no-store"
        listed = anon_client.get(
            "/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
        )
        assert listed.status_code == 200

    def test_http_basic_credentials_work_too(self, anon_client, issued):
        basic = base64.b64encode(
            f"{issued.client.client_id}:{issued.client_secret}".encode()
        ).decode()
        response = post(
            anon_client, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
        )
        assert response.status_code == 200

    def test_scope_narrows_the_token(self, anon_client, issued):
        response = post(
            anon_client,
            {
                "grant_type": "client_credentials",
                "client_id": issued.client.client_id,
                "client_secret": issued.client_secret,
                "scope": READ,
            },
        )
        assert response.status_code == 200
        token = response.json()["access_token"]
        assert response.json()["scope"] == READ
        created = anon_client.post(
            "/customer-segment/acme/segments",
            {"name": {"en": "x"}, "siteCode": "main"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert created.status_code == 403

    def test_scope_beyond_the_clients_is_400_invalid_scope(self, tenant, anon_client):
        issued = api_client_create(tenant=tenant, scopes=READ)
        response = post(
            anon_client,
            {
                "grant_type": "client_credentials",
                "client_id": issued.client.client_id,
                "client_secret": issued.client_secret,
                "scope": MANAGE,
            },
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"

    @pytest.mark.parametrize(
        "client_id, secret",
        [("nobody", "nothing"), (None, "wrong-secret"), (None, "")],
    )
    def test_bad_credentials_are_401_invalid_client(self, anon_client, issued, client_id, secret):
        data = {
            "grant_type": "client_credentials",
            "client_id": client_id or issued.client.client_id,
        }
        if secret:
            data["client_secret"] = secret
        response = post(anon_client, data)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_revoked_client_is_401(self, anon_client, issued):
        api_client_revoke(client=issued.client)
        response = post(
            anon_client,
            {
                "grant_type": "client_credentials",
                "client_id": issued.client.client_id,
                "client_secret": issued.client_secret,
            },
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_other_grant_types_are_400(self, anon_client, issued):
        response = post(anon_client, {"grant_type": "password", "username": "u", "password": "p"})
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"

    def test_json_body_is_415(self, anon_client, issued):
        response = anon_client.post(URL, {"grant_type": "client_credentials"}, format="json")
        assert response.status_code == 415
        assert response.json()["code"] == 415

    def test_secret_is_stored_hashed(self, issued):
        assert issued.client_secret not in issued.client.secret_hash
        assert issued.client.secret_hash.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt"))

    def test_get_is_405_json(self, anon_client):
        response = anon_client.get(URL)
        assert response.status_code == 405
        assert response.json()["code"] == 405
