"""The tenants admin: tenants, API clients (secret shown once, revoking) and staff tenant grants."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tenants.models import ApiClient, StaffTenantAccess, Tenant
from tests.conftest import MANAGE, READ

User = get_user_model()
CLIENTS = "/admin/tenants/apiclient/"


@pytest.fixture
def su_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", None))
    return client


def grant(client, client_id: str, secret: str):
    body = urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    return client.post("/oauth/token", body, content_type="application/x-www-form-urlencoded")


def create_client(su_client, **extra):
    data = {"name": "storefront", "scope_choices": [MANAGE, READ], **extra}
    return su_client.post(f"{CLIENTS}add/?tenant=acme", data)


@pytest.mark.django_db
class TestApiClients:
    def test_creating_shows_the_secret_once_and_it_works(self, su_client, tenant, anon_client):
        response = create_client(su_client)

        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        html = response.content.decode()
        client_id = re.search(r'<code id="client-id">([^<]+)</code>', html).group(1)
        secret = re.search(r'<code id="client-secret">([^<]+)</code>', html).group(1)
        stored = ApiClient.objects.get()
        assert (stored.client_id, stored.tenant_id, stored.name) == (
            client_id,
            "acme",
            "storefront",
        )
        assert stored.scopes == f"{MANAGE} {READ}"
        assert secret not in stored.secret_hash
        token = grant(anon_client, client_id, secret)
        assert token.status_code == 200
        change_page = su_client.get(f"{CLIENTS}{stored.pk}/change/").content.decode()
        assert secret not in change_page

    def test_needs_a_scope(self, su_client, tenant):
        response = create_client(su_client, scope_choices=[])

        assert response.context["adminform"].form.errors["scope_choices"] == [
            "This field is required."
        ]
        assert not ApiClient.objects.exists()

    def test_revoking_stops_token_grants(self, su_client, tenant, anon_client):
        html = create_client(su_client).content.decode()
        client_id = re.search(r'<code id="client-id">([^<]+)</code>', html).group(1)
        secret = re.search(r'<code id="client-secret">([^<]+)</code>', html).group(1)

        su_client.post(
            CLIENTS, {"action": "revoke", "_selected_action": [ApiClient.objects.get().pk]}
        )

        assert ApiClient.objects.get().revoked_at is not None
        token = grant(anon_client, client_id, secret)
        assert token.status_code == 401

    def test_list_shows_whether_active(self, su_client, tenant):
        create_client(su_client)

        response = su_client.get(CLIENTS)

        assert [row.is_active for row in response.context["cl"].result_list] == [True]


@pytest.mark.django_db
class TestTenants:
    def test_superuser_creates_a_tenant_with_languages(self, su_client):
        response = su_client.post(
            "/admin/tenants/tenant/add/",
            {"name": "shop", "default_language": "de", "languages": "de, en"},
        )

        assert response.status_code == 302
        tenant = Tenant.objects.get(name="shop")
        assert (tenant.default_language, tenant.languages) == ("de", ["de", "en"])

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": "Shop", "default_language": "en", "languages": "en"}, "name"),
            ({"name": "shop", "default_language": "fr", "languages": "en"}, "default_language"),
            ({"name": "shop", "default_language": "en", "languages": "en, english!"}, "languages"),
        ],
    )
    def test_bad_tenants_are_refused_on_the_form(self, su_client, data, field):
        response = su_client.post("/admin/tenants/tenant/add/", data)

        assert field in response.context["adminform"].form.errors
        assert not Tenant.objects.exists()

    def test_name_is_fixed_once_created(self, su_client, tenant):
        response = su_client.get("/admin/tenants/tenant/acme/change/")

        assert "name" not in response.context["adminform"].form.fields


@pytest.mark.django_db
def test_superuser_grants_tenants_on_the_user_form(su_client, tenant):
    user = User.objects.create_user("merch", "m@example.com", None, is_staff=True)
    prefix = "tenant_access"
    data = {
        "username": "merch",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-tenant": "acme",
    }

    response = su_client.post(f"/admin/auth/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(StaffTenantAccess.objects.values_list("user__username", "tenant_id")) == [
        ("merch", "acme")
    ]
    listing = su_client.get("/admin/auth/user/").content.decode()
    assert "acme" in listing
