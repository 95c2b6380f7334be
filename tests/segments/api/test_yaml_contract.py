"""Every operation of the reference YAML is served, at its path, with its id, scopes and codes."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.schema import _document

ASSIGNMENT_TAGS = {"Customers Assignments", "Items Assignments"}
METHODS = ("get", "put", "post", "patch", "delete")


def _normalized(path: str) -> str:
    # Parameter names differ in style only (segmentId vs segment_id).
    return re.sub(r"\{[^}]+\}", "{}", path)


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (_normalized(path), method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


REFERENCE = _operations(_document())


@pytest.fixture(scope="module")
def ours() -> dict[tuple[str, str], dict]:
    return _operations(SchemaGenerator().get_schema(request=None, public=True))


def test_the_reference_has_thirty_operations_nineteen_of_them_assignments():
    assert len(REFERENCE) == 30
    assignments = [op for op in REFERENCE.values() if ASSIGNMENT_TAGS & set(op["tags"])]
    assert len(assignments) == 19


@pytest.mark.parametrize("key", sorted(REFERENCE), ids=lambda key: f"{key[1].upper()} {key[0]}")
def test_served_with_the_reference_operation_id_and_scopes(ours, key):
    reference = REFERENCE[key]
    assert key in ours, "not served"
    operation = ours[key]
    assert operation["operationId"] == reference["operationId"]
    # Any one listed scope suffices; we list each as its own alternative requirement (and a
    # ready bearer token, `BearerToken`, as one more: it carries its scopes itself).
    reference_scopes = {s for r in reference["security"] for s in r["CustomerAccessToken"]}
    assert {s for r in operation["security"] for s in r.get("OAuth2", [])} == reference_scopes
    expected_codes = {code for code in reference["responses"] if code != "401"}
    assert expected_codes <= set(operation["responses"])
