"""Every error a client can provoke answers the JSON error body, never HTML, never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.conftest import READ


@pytest.mark.django_db
class TestErrorShape:
    def test_unknown_path_is_json_404(self, client):
        response = client.get("/no/such/path")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "code": 404,
            "status": "Not Found",
            "message": "No resource at /no/such/path.",
        }

    def test_unknown_path_under_tenant_is_json_404(self, client):
        response = client.get("/customer-segment/acme/nothing-here")
        assert response.status_code == 404
        assert response.json()["code"] == 404

    def test_method_not_allowed_is_json_405_with_allow(self, tenant, make_client):
        response = make_client(tenant, READ).delete("/customer-segment/acme/segments/search")
        assert response.status_code == 405
        assert response.json() == {
            "code": 405,
            "status": "Method Not Allowed",
            "message": 'Method "DELETE" not allowed.',
        }
        assert "POST" in response["Allow"]

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("TRACE", "/customer-segment/acme/segments"),
            ("PUT", "/customer-segment/acme/segments"),
            ("DELETE", "/customer-segment/acme/segments/search"),
            ("PATCH", "/customer-segment/acme/segments/gold/customers"),
        ],
    )
    def test_method_not_allowed_without_a_token_is_401_not_500(self, tenant, client, method, path):
        response = client.generic(method, path)
        assert response.status_code == 401
        assert response.json()["fault"]["faultstring"] == "Invalid access token"

    def test_malformed_json_is_400_naming_the_problem(self, tenant, make_client):
        response = make_client(tenant, READ).post(
            "/customer-segment/acme/segments/search",
            data="{not json",
            content_type="application/json",
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == 400
        assert body["message"].startswith("Malformed JSON in the request body")

    def test_non_json_body_is_415(self, tenant, make_client):
        response = make_client(tenant, READ).post(
            "/customer-segment/acme/segments/search", data="q=x", content_type="text/plain"
        )
        assert response.status_code == 415
        assert response.json() == {
            "code": 415,
            "status": "Unsupported Media Type",
            "message": 'Unsupported media type "text/plain" in request.',
        }

    @override_settings(MAX_REQUEST_BODY_BYTES=1000)
    def test_body_over_the_limit_is_413(self, tenant, make_client):
        response = make_client(tenant, READ).post(
            "/customer-segment/acme/segments/search",
            data='{"q": "' + "x" * 2000 + '"}',
            content_type="application/json",
        )
        assert response.status_code == 413
        body = response.json()
        assert body["code"] == 413
        assert body["status"] == "Content Too Large" or body["status"] == "Request Entity Too Large"
        assert "at most 1000 bytes" in body["message"]

    def test_default_limit_is_ten_megabytes(self, settings):
        assert settings.MAX_REQUEST_BODY_BYTES == 10 * 1024 * 1024

    def test_unexpected_failure_is_json_500(self, tenant, make_client, monkeypatch):
        from segments.api.views import segments as views

        def boom(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(views.SegmentFilterSet, "apply", boom)
        client = make_client(tenant, READ)
        client.raise_request_exception = False
        response = client.get("/customer-segment/acme/segments")
        assert response.status_code == 500
        assert response.json() == {
            "code": 500,
            "status": "Internal Server Error",
            "message": "Internal server error.",
        }

    def test_admin_404_stays_html(self, admin_client):
        response = admin_client.get("/admin/segments/segment/999999/change/nothing/")
        assert response.status_code in (302, 404)
        assert "application/json" not in response.get("Content-Type", "")


@pytest.mark.django_db
def test_health_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
class TestDocs:
    def test_schema_is_served(self, client):
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        schema = response.json()
        assert "/customer-segment/{tenant}/segments" in schema["paths"]
        assert "/oauth/token" in schema["paths"]
        assert "OAuth2" in schema["components"]["securitySchemes"]

    @pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
    def test_docs_pages_load_assets_locally(self, client, url):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
        assert "/static/drf_spectacular_sidecar/" in html

    def test_every_path_of_the_reference_is_documented_with_its_parameter_names(self, client):
        from tests.schema import reference_document

        ours = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        reference = reference_document()
        for path, operations in reference["paths"].items():
            assert path in ours["paths"], path
            for method in operations.keys() - {"parameters"}:
                assert method in ours["paths"][path], (method, path)

    def test_schema_validates_without_warnings(self):
        from django.core.management import call_command

        call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
