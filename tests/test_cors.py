"""CORS through HTTP: preflights answered without a token, allowed origins from configuration.

The suite runs with the Quick start's `CORS_ALLOWED_ORIGINS=*` (dev.py passes it); the tests
of a configured list, and of the production default (none), override the settings.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.test import Client
from django.test.utils import override_settings

import dev
from tests.conftest import MANAGE, READ
from tests.factories import make_segment
from tests.test_security import ROOT, production_env

SHOP = "https://shop.example.com"
ALLOWED_HEADERS = (
    "authorization, content-type, content-language, accept-language, x-total-count, "
    "emporix-tenant, x-version"
)
REQUESTED_HEADERS = (
    "authorization,content-type,content-language,accept-language,x-total-count,"
    "emporix-tenant,x-version"
)
ONLY_SHOP = override_settings(CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOWED_ORIGINS=[SHOP])
PRODUCTION_DEFAULT = override_settings(CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOWED_ORIGINS=[])

CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Credentials",
)


def cors_headers(response) -> dict[str, str]:
    """The response's CORS headers, by name."""
    return {name: response[name] for name in CORS_HEADERS if response.has_header(name)}


def preflight(path: str, *, origin: str = SHOP, method: str = "PUT", headers=REQUESTED_HEADERS):
    """What a browser sends before a cross-origin PUT with these headers: no token."""
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


@pytest.mark.django_db
class TestPreflight:
    @ONLY_SHOP
    def test_allowed_origin_gets_200_with_cors_headers_and_no_token_check(self, tenant):
        response = preflight("/customer-segment/acme/segments/gold")
        assert response.status_code == 200
        assert response.content == b""
        assert cors_headers(response) == {
            "Access-Control-Allow-Origin": SHOP,
            "Access-Control-Allow-Methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "86400",
            "Access-Control-Expose-Headers": "X-Total-Count, X-Request-ID, X-Dry-Run",
        }
        assert response["Vary"] == "origin"

    @ONLY_SHOP
    def test_preflight_of_the_token_endpoint(self, db):
        response = preflight("/oauth/token", method="POST", headers="content-type")
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == SHOP

    @ONLY_SHOP
    def test_disallowed_origin_gets_no_allow_origin(self, tenant):
        response = preflight("/customer-segment/acme/segments", origin="https://evil.example")
        assert response.status_code == 200
        assert cors_headers(response) == {}

    @PRODUCTION_DEFAULT
    def test_production_default_allows_no_origin(self, tenant):
        response = preflight("/customer-segment/acme/segments")
        assert cors_headers(response) == {}

    def test_any_origin_with_star(self, tenant):
        # The suite's (and the Quick start's) CORS_ALLOWED_ORIGINS=*.
        response = preflight("/customer-segment/acme/segments", origin="http://127.0.0.1:5173")
        assert response.status_code == 200
        assert cors_headers(response) == {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "86400",
            "Access-Control-Expose-Headers": "X-Total-Count, X-Request-ID, X-Dry-Run",
        }

    @ONLY_SHOP
    def test_admin_answers_no_cors(self, db):
        response = preflight("/admin/login/", method="POST", headers="content-type")
        assert cors_headers(response) == {}


@pytest.mark.django_db
class TestActualRequests:
    @ONLY_SHOP
    def test_get_exposes_x_total_count(self, tenant, make_token):
        make_segment(tenant, "gold")
        response = Client().get(
            "/customer-segment/acme/segments",
            HTTP_ORIGIN=SHOP,
            HTTP_AUTHORIZATION=f"Bearer {make_token(tenant, READ)}",
            HTTP_X_TOTAL_COUNT="true",
        )
        assert response.status_code == 200
        assert response["X-Total-Count"] == "1"
        assert cors_headers(response) == {
            "Access-Control-Allow-Origin": SHOP,
            "Access-Control-Expose-Headers": "X-Total-Count, X-Request-ID, X-Dry-Run",
        }

    @ONLY_SHOP
    def test_a_dry_run_exposes_x_dry_run(self, tenant, make_token):
        response = Client().put(
            "/customer-segment/acme/segments/gold?dryRun=true",
            data='{"name": {"en": "Gold"}, "siteCode": "main"}',
            content_type="application/json",
            HTTP_ORIGIN=SHOP,
            HTTP_AUTHORIZATION=f"Bearer {make_token(tenant, MANAGE)}",
        )
        assert response.status_code == 201
        assert response["X-Dry-Run"] == "true"
        assert "X-Dry-Run" in response["Access-Control-Expose-Headers"].split(", ")

    @ONLY_SHOP
    def test_errors_carry_cors_headers_so_the_browser_can_read_them(self, tenant, make_token):
        response = Client().put(
            "/customer-segment/acme/segments/gold",
            data="{}",
            content_type="application/json",
            HTTP_ORIGIN=SHOP,
            HTTP_AUTHORIZATION=f"Bearer {make_token(tenant, READ)}",
        )
        assert response.status_code == 403
        assert response["Access-Control-Allow-Origin"] == SHOP
        response = Client().get("/customer-segment/acme/segments", HTTP_ORIGIN=SHOP)
        assert response.status_code == 401
        assert response["Access-Control-Allow-Origin"] == SHOP

    @ONLY_SHOP
    def test_disallowed_origin_gets_the_answer_without_allow_origin(self, tenant, make_token):
        response = Client().get(
            "/customer-segment/acme/segments",
            HTTP_ORIGIN="https://evil.example",
            HTTP_AUTHORIZATION=f"Bearer {make_token(tenant, MANAGE, READ)}",
        )
        assert response.status_code == 200
        assert cors_headers(response) == {}

    def test_options_without_preflight_headers_still_needs_a_token(self, tenant):
        # Not a preflight (no Access-Control-Request-Method): DRF's OPTIONS, behind the token.
        response = Client().options("/customer-segment/acme/segments", HTTP_ORIGIN=SHOP)
        assert response.status_code == 401


def cors_settings_of(**environment: str) -> dict:
    """CORS settings of a fresh process with the production environment plus `environment`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.CORS_ALLOW_ALL_ORIGINS, settings.CORS_ALLOWED_ORIGINS]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env(**environment),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    allow_all, origins = json.loads(result.stdout)
    return {"allow_all": allow_all, "origins": origins}


class TestConfiguration:
    def test_production_allows_no_origin_by_default(self):
        assert cors_settings_of() == {"allow_all": False, "origins": []}

    def test_star_allows_any_origin(self):
        assert cors_settings_of(CORS_ALLOWED_ORIGINS="*") == {"allow_all": True, "origins": []}

    def test_a_comma_separated_list(self):
        origins = "https://shop.example.com,https://dashboard.example.com"
        assert cors_settings_of(CORS_ALLOWED_ORIGINS=origins) == {
            "allow_all": False,
            "origins": ["https://shop.example.com", "https://dashboard.example.com"],
        }

    def test_star_and_origins_together_fail_at_start(self):
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env=production_env(CORS_ALLOWED_ORIGINS="*,https://shop.example.com"),
            capture_output=True,
            text=True,
        )
        assert result.returncode == 1
        assert "CORS_ALLOWED_ORIGINS is either `*` or a list of origins" in result.stderr

    def test_the_quick_start_allows_any_origin(self, monkeypatch):
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
        assert dev.development_env()["CORS_ALLOWED_ORIGINS"] == "*"
