"""A revoked or deleted API client's tokens stop opening the API within a minute, not at expiry."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tenants.models import ApiClient
from tenants.services import api_client_create, api_client_revoke
from tenants.tokens import token_decode, token_issue
from tests.conftest import READ

URL = "/customer-segment/acme/segments"
INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid access token",
        "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
    }
}


@pytest.fixture
def issued(tenant, fast_hashing):
    return api_client_create(tenant=tenant, scopes=READ, name="storefront")


@pytest.fixture
def granted(issued) -> APIClient:
    """An API client holding a token from `/oauth/token` for `issued`."""
    client = APIClient()
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": issued.client.client_id,
            "client_secret": issued.client_secret,
        }
    )
    response = client.post("/oauth/token", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    client.token = response.json()["access_token"]
    return client


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
class TestRevokedClients:
    def test_a_granted_token_names_its_client(self, granted, issued):
        assert token_decode(granted.token).client_id == issued.client.client_id

    def test_revoking_refuses_the_clients_tokens_at_once(self, granted, issued):
        assert granted.get(URL).status_code == 200

        api_client_revoke(client=issued.client)

        assert_refused(granted.get(URL))

    def test_deleting_refuses_the_clients_tokens_at_once(self, granted, issued):
        assert granted.get(URL).status_code == 200

        issued.client.delete()

        assert_refused(granted.get(URL))

    def test_revoking_in_the_admin_refuses_the_clients_tokens(self, granted, issued):
        admin = Client()
        admin.force_login(get_user_model().objects.create_superuser("root", "r@example.com", None))
        assert granted.get(URL).status_code == 200

        admin.post(
            "/admin/tenants/apiclient/",
            {"action": "revoke", "_selected_action": [issued.client.pk]},
        )

        assert_refused(granted.get(URL))

    def test_a_revocation_no_signal_reached_is_seen_within_the_cache_time(
        self, granted, issued, settings
    ):
        """Another worker revoked the client: this one notices when its entry expires."""
        settings.API_CLIENT_CACHE_SECONDS = 1
        assert granted.get(URL).status_code == 200

        ApiClient.objects.filter(pk=issued.client.pk).update(revoked_at=timezone.now())
        time.sleep(1.1)

        assert_refused(granted.get(URL))

    def test_the_cache_time_is_at_most_a_minute(self):
        assert 0 < settings.API_CLIENT_CACHE_SECONDS <= 60

    def test_a_token_from_before_the_client_id_claim_is_refused_too(self, issued):
        """Tokens granted before tokens carried `client_id` name their client as subject."""
        token, _ = token_issue(tenant="acme", scopes=[READ], subject=issued.client.client_id)
        older = APIClient()
        older.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert older.get(URL).status_code == 200

        api_client_revoke(client=issued.client)

        assert_refused(older.get(URL))

    def test_the_client_is_looked_up_once_then_remembered(self, granted, django_assert_num_queries):
        granted.get(URL)  # the client is remembered after this
        with django_assert_num_queries(2):  # the tenant (read on every request), the list
            assert granted.get(URL).status_code == 200

    def test_tokens_without_a_client_are_not_looked_up(
        self, tenant, make_client, django_assert_num_queries
    ):
        client = make_client(tenant, READ)
        client.get(URL)
        with django_assert_num_queries(2):  # the tenant (read on every request), the list
            assert client.get(URL).status_code == 200
