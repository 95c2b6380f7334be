"""The served OpenAPI document: Swagger UI's Authorize takes a ready bearer token, the tenant
defaults to the demo tenant, and `q` is documented with every allow-listed field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from segments.query.fields import (
    CUSTOMER_ASSIGNMENT_FIELDS,
    GROUP_ASSIGNMENT_FIELDS,
    ITEM_ASSIGNMENT_FIELDS,
    SEGMENT_FIELDS,
)

RESOURCE_FIELDS = {
    "Segments": SEGMENT_FIELDS,
    "Customer assignments": CUSTOMER_ASSIGNMENT_FIELDS,
    "Item assignments": ITEM_ASSIGNMENT_FIELDS,
    "Group assignments": GROUP_ASSIGNMENT_FIELDS,
}
QUERY_DOC = Path(settings.BASE_DIR) / "docs" / "query-language.md"


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_security_schemes_offer_a_ready_bearer_token_and_client_credentials(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerToken"]["type"] == "http"
    assert schemes["BearerToken"]["scheme"] == "bearer"
    assert "issue_token" in schemes["BearerToken"]["description"]
    assert schemes["OAuth2"]["type"] == "oauth2"
    assert schemes["OAuth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"


def test_every_tenant_operation_accepts_the_bearer_token_or_its_oauth2_scopes(schema):
    update = schema["paths"]["/customer-segment/{tenant}/segments/{segmentId}"]["put"]
    assert update["security"] == [
        {"OAuth2": ["customersegment.segment_manage"]},
        {"BearerToken": []},
    ]
    for path, method, operation in operations(schema):
        if path.startswith("/customer-segment/"):
            assert {"BearerToken": []} in operation["security"], (method, path)


def test_tenant_path_parameter_defaults_to_demo(schema):
    tenant_parameters = [
        parameter
        for _, _, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"] == "tenant"
    ]
    tenant_paths = [path for path in schema["paths"] if "{tenant}" in path]
    assert tenant_paths
    assert len(tenant_parameters) == sum(len(schema["paths"][p]) for p in tenant_paths)
    assert all(parameter["schema"]["default"] == "demo" for parameter in tenant_parameters)


def q_descriptions(schema: dict) -> dict[str, str]:
    return {
        f"{method} {path}": parameter["description"]
        for path, method, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["name"] == "q"
    }


def test_q_description_lists_the_operators_and_every_field_of_each_resource(schema):
    descriptions = q_descriptions(schema)
    assert "get /customer-segment/{tenant}/segments" in descriptions
    assert "get /customer-segment/{tenant}/segments/{segmentId}/customers" in descriptions
    assert "get /customer-segment/{tenant}/segments/{segmentId}/items" in descriptions
    assert "get /customer-segment/{tenant}/segments/{segmentId}/groups" in descriptions
    for description in descriptions.values():
        for operator in ("field:>=v", "AND", "field:(a,b,c)", "field:~", "field:null"):
            assert operator in description
        for title, fields in RESOURCE_FIELDS.items():
            line = next(line for line in description.splitlines() if f"**{title}**" in line)
            named = set(re.findall(r"`([A-Za-z.]+)` \(", line))
            assert named == set(fields), title


def test_query_language_page_lists_every_field_of_each_resource():
    text = QUERY_DOC.read_text()
    sections = dict(re.findall(r"^### (.+?)\n(.*?)(?=^### |\Z)", text, re.M | re.S))
    assert set(sections) == set(RESOURCE_FIELDS)
    for title, fields in RESOURCE_FIELDS.items():
        named = set(re.findall(r"^\| `([A-Za-z.]+)` \|", sections[title], re.M))
        assert named == set(fields), title


def test_readme_links_the_query_language_page():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "(docs/query-language.md)" in readme


def test_error_details_are_the_field_at_fault_or_the_missing_scopes(schema):
    details = schema["components"]["schemas"]["Error"]["properties"]["details"]["oneOf"]
    assert [variant["type"] for variant in details] == ["object", "array"]
    assert details[1]["items"] == {"type": "string"}
