"""Checks response bodies against the OpenAPI documents' schemas.

`assert_matches(body, "SegmentResponse")` validates with jsonschema against the named
component, with every `$ref` resolved inside the reference document.
`assert_matches_served(body, path, "get", 200)` validates against the response schema that
the service's own document, as served at /api/schema/, gives for that operation and status.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.test import Client

REFERENCES = Path(__file__).resolve().parent.parent / "docs" / "reference"
REFERENCE = REFERENCES / "customer-segment-api.yml"
# The hosted service's 2026 description: the same operations, and five group operations.
REFERENCE_2026 = REFERENCES / "customer-segment-api-2026-groups-preview.yml"


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    # The YAML has unquoted timestamps; keep them strings as JSON would.
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )
    return yaml.load(path.read_text(), Loader=Loader)


def _document() -> dict[str, Any]:
    return _load(REFERENCE)


def reference_2026() -> dict[str, Any]:
    """The 2026 reference document (with the group assignment operations), parsed."""
    return _load(REFERENCE_2026)


def reference_document() -> dict[str, Any]:
    """The reference OpenAPI document, parsed."""
    return _document()


def schema_for(component: str, *, array: bool = False) -> dict[str, Any]:
    """A JSON schema for a component (or an array of it) of the reference documents (the
    2026 one holds every component of the other, and the group assignment ones)."""
    ref = {"$ref": f"#/components/schemas/{component}"}
    schema = {"type": "array", "items": ref} if array else ref
    return {**schema, "components": reference_2026()["components"]}


def assert_matches(body: Any, component: str, *, array: bool = False) -> None:
    """Fail with jsonschema's message unless `body` matches the component's schema."""
    jsonschema.validate(body, schema_for(component, array=array))


@functools.cache
def served_document() -> dict[str, Any]:
    """The service's own OpenAPI document, as /api/schema/ serves it."""
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    return response.json()


def _json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _served_schema(content: dict[str, Any], media_type: str) -> dict[str, Any]:
    schema = content[media_type]["schema"]
    return _json_schema({**schema, "components": served_document()["components"]})


def served_response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema of the served document's `status` response of `method path`."""
    response = served_document()["paths"][path][method]["responses"][str(status)]
    return _served_schema(response["content"], "application/json")


def served_request_schema(path: str, method: str, media_type: str) -> dict[str, Any]:
    """The JSON schema of the served document's `media_type` request body of `method path`."""
    body = served_document()["paths"][path][method]["requestBody"]
    return _served_schema(body["content"], media_type)


def served_parameter(path: str, method: str, name: str) -> dict[str, Any]:
    """The served document's parameter `name` of `method path` (its `schema` as JSON schema)."""
    operation = served_document()["paths"][path][method]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == name]
    return {**parameter, "schema": _json_schema(parameter["schema"])}


def assert_matches_served(body: Any, path: str, method: str, status: int) -> None:
    """Fail with jsonschema's message unless `body` is what the served document promises."""
    jsonschema.validate(body, served_response_schema(path, method, status))


def assert_error_body(body: Any) -> None:
    """The YAML's `Error`, with SPEC 9's one platform convention on top: a 403 for a missing
    scope carries `details` as a list of `missing scope: <scope>` strings."""
    details = body.get("details") if isinstance(body, dict) else None
    if isinstance(details, list):
        assert body["code"] == 403, body
        assert details and all(
            isinstance(item, str) and item.startswith("missing scope: ") for item in details
        ), details
        body = {name: value for name, value in body.items() if name != "details"}
    assert_matches(body, "Error")
