"""The operator commands of the tenants app, and that their output works against the API."""

from __future__ import annotations

import io
import json
import subprocess
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command

from tenants.models import ApiClient, Tenant
from tests.conftest import MANAGE, READ


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestCreateTenant:
    def test_creates_with_languages(self):
        output = run("create_tenant", "shop", "--default-language", "de", "--languages", "de,en")
        tenant = Tenant.objects.get(name="shop")
        assert tenant.default_language == "de"
        assert tenant.languages == ["de", "en"]
        assert "Created tenant shop" in output

    def test_default_language_joins_the_languages(self):
        run("create_tenant", "shop", "--default-language", "fr", "--languages", "en")
        assert Tenant.objects.get(name="shop").languages == ["fr", "en"]

    @pytest.mark.parametrize("name", ["Shop", "ab", "9shop", "shop-1"])
    def test_bad_names_are_refused(self, name):
        with pytest.raises(CommandError, match="not a valid tenant name"):
            run("create_tenant", name)

    def test_existing_name_is_refused(self, tenant):
        with pytest.raises(CommandError, match="already exists"):
            run("create_tenant", "acme")


@pytest.mark.django_db
class TestCreateApiClient:
    def test_prints_id_and_secret_once(self, tenant, anon_client):
        output = run(
            "create_api_client", "--tenant", "acme", "--scopes", f"{READ} {MANAGE}", "--name", "erp"
        )
        lines = dict(line.split(": ", 1) for line in output.strip().splitlines())
        client = ApiClient.objects.get(client_id=lines["client_id"])
        assert client.name == "erp"
        assert lines["client_secret"] not in client.secret_hash
        response = anon_client.post(
            "/oauth/token",
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": lines["client_id"],
                    "client_secret": lines["client_secret"],
                }
            ),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200

    def test_env_format_sets_shell_variables_the_token_endpoint_accepts(self, tenant, anon_client):
        output = run("create_api_client", "--tenant", "acme", "--scopes", READ, "--format", "env")
        # What the README's `eval "$(... --format env)"` does, in a real shell.
        shell = subprocess.run(
            ["sh", "-c", 'eval "$1"; printf "%s\\n%s" "$CLIENT_ID" "$CLIENT_SECRET"', "sh", output],
            capture_output=True,
            text=True,
            check=True,
        )
        client_id, client_secret = shell.stdout.split("\n")
        assert ApiClient.objects.filter(client_id=client_id).exists()
        response = anon_client.post(
            "/oauth/token",
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "scope": READ,
                }
            ),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert response.json()["scope"] == READ

    def test_json_format(self, tenant):
        body = json.loads(
            run("create_api_client", "--tenant", "acme", "--scopes", READ, "--format", "json")
        )
        assert set(body) == {"client_id", "client_secret"}
        assert ApiClient.objects.filter(client_id=body["client_id"]).exists()

    def test_unknown_scope_is_refused(self, tenant):
        with pytest.raises(CommandError, match="Unknown scope"):
            run("create_api_client", "--tenant", "acme", "--scopes", "everything")

    def test_unknown_tenant_is_refused(self, db):
        with pytest.raises(CommandError, match="does not exist"):
            run("create_api_client", "--tenant", "nosuch", "--scopes", READ)


@pytest.mark.django_db
class TestIssueToken:
    def test_prints_the_token_alone_and_the_api_accepts_it(self, tenant, anon_client):
        token = run("issue_token", "--tenant", "acme", "--scopes", READ).strip()
        assert "\n" not in token and token.count(".") == 2
        response = anon_client.get(
            "/customer-segment/acme/segments", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 200

    def test_customer_token_carries_the_customer(self, tenant):
        from tenants.tokens import token_decode

        token = run(
            "issue_token",
            "--tenant",
            "acme",
            "--scopes",
            "customersegment.segment_read_own",
            "--customer",
            "c1",
            "--legal-entity",
            "le1",
            "--ttl",
            "60",
        ).strip()
        claims = token_decode(token)
        assert (claims.customer_id, claims.legal_entity_id, claims.tenant) == ("c1", "le1", "acme")

    @pytest.mark.parametrize("ttl", ["0", "86401", "-5"])
    def test_ttl_outside_one_second_to_a_day_is_refused(self, tenant, ttl):
        with pytest.raises(CommandError, match="between 1 and 86400"):
            run("issue_token", "--tenant", "acme", "--scopes", READ, "--ttl", ttl)

    def test_legal_entity_without_customer_is_refused(self, tenant):
        with pytest.raises(CommandError, match="needs --customer"):
            run("issue_token", "--tenant", "acme", "--scopes", READ, "--legal-entity", "le1")

    def test_unknown_tenant_is_refused(self, db):
        with pytest.raises(CommandError, match="does not exist"):
            run("issue_token", "--tenant", "nosuch", "--scopes", READ)
