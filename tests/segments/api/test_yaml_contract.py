"""Every operation of the reference YAMLs is served, at its path, with its id, scopes and codes.

Two references: the hosted service's published YAML (30 operations) and its 2026
description (`customer-segment-api-2026-groups-preview.yml`, 35: the same 30 and the five
group assignment operations).
"""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.schema import _document, reference_2026

ASSIGNMENT_TAGS = {"Customers Assignments", "Items Assignments"}
GROUP_TAG = "Group Assignments"
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
REFERENCE_2026 = _operations(reference_2026())


@pytest.fixture(scope="module")
def ours() -> dict[tuple[str, str], dict]:
    return _operations(SchemaGenerator().get_schema(request=None, public=True))


def test_the_reference_has_thirty_operations_nineteen_of_them_assignments():
    assert len(REFERENCE) == 30
    assignments = [op for op in REFERENCE.values() if ASSIGNMENT_TAGS & set(op["tags"])]
    assert len(assignments) == 19


def test_the_2026_reference_has_the_thirty_and_five_group_operations():
    assert len(REFERENCE_2026) == 35
    groups = {key for key, op in REFERENCE_2026.items() if GROUP_TAG in op["tags"]}
    assert len(groups) == 5
    assert set(REFERENCE_2026) - groups == set(REFERENCE)
    for key in REFERENCE:
        assert REFERENCE_2026[key]["operationId"] == REFERENCE[key]["operationId"]


CASES = [("2024", key) for key in sorted(REFERENCE)] + [
    ("2026", key) for key in sorted(REFERENCE_2026)
]


@pytest.mark.parametrize(
    ("edition", "key"), CASES, ids=[f"{e} {k[1].upper()} {k[0]}" for e, k in CASES]
)
def test_served_with_the_reference_operation_id_and_scopes(ours, edition, key):
    reference = (REFERENCE if edition == "2024" else REFERENCE_2026)[key]
    assert key in ours, "not served"
    operation = ours[key]
    assert operation["operationId"] == reference["operationId"]
    # Any one listed scope suffices; we list each as its own alternative requirement (and a
    # ready bearer token, `BearerToken`, as one more: it carries its scopes itself).
    reference_scopes = {s for r in reference["security"] for s in r["CustomerAccessToken"]}
    assert {s for r in operation["security"] for s in r.get("OAuth2", [])} == reference_scopes
    expected_codes = {code for code in reference["responses"] if code != "401"}
    assert expected_codes <= set(operation["responses"])
