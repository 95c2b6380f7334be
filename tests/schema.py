"""Checks response bodies against the reference OpenAPI document's schemas.

`assert_matches(body, "SegmentResponse")` validates with jsonschema against the named
component, with every `$ref` resolved inside the reference document.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REFERENCE = (
    Path(__file__).resolve().parent.parent / "docs" / "reference" / "customer-segment-api.yml"
)


@functools.cache
def _document() -> dict[str, Any]:
    # The YAML has unquoted timestamps; keep them strings as JSON would.
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )
    return yaml.load(REFERENCE.read_text(), Loader=Loader)


def reference_document() -> dict[str, Any]:
    """The reference OpenAPI document, parsed."""
    return _document()


def schema_for(component: str, *, array: bool = False) -> dict[str, Any]:
    """A JSON schema for a component (or an array of it) of the reference document."""
    ref = {"$ref": f"#/components/schemas/{component}"}
    schema = {"type": "array", "items": ref} if array else ref
    return {**schema, "components": _document()["components"]}


def assert_matches(body: Any, component: str, *, array: bool = False) -> None:
    """Fail with jsonschema's message unless `body` matches the component's schema."""
    jsonschema.validate(body, schema_for(component, array=array))


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
