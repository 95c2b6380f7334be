"""The router's route table is the contract's: every (method, path) of the 2026 reference
YAML (the published one's 30 operations and the five group operations) is routed to one
operation, with its path parameters, and nothing else is routed under the tenant prefix
but the two `me` reads of SPEC §11."""

from __future__ import annotations

import re

from django.urls import resolve

from segments.api import urls
from tests.schema import reference_2026, reference_document, served_document

METHODS = ("get", "put", "post", "patch", "delete")
PREFIX = "customer-segment/<str:tenant>/"
# SPEC §11: the hosted service's tutorial adds `GET /segments/me`; `/me/segments` answers the same.
BEYOND_THE_YAML = {(PREFIX + "segments/me", "get"), (PREFIX + "me/segments", "get")}


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _example_path(template: str) -> tuple[str, dict[str, str]]:
    """`template` with each `{name}` filled with `v-name`, and the kwargs that should bind."""
    names = re.findall(r"\{([^}]+)\}", template)
    path = template
    for name in names:
        path = path.replace("{" + name + "}", f"v-{name}")
    return path, {_snake(name): f"v-{name}" for name in names}


def contract_operations(document: dict | None = None) -> dict[tuple[str, str], str]:
    """(route the contract's path resolves to, method) → the contract's path."""
    routed: dict[tuple[str, str], str] = {}
    for template, item in (document or reference_2026())["paths"].items():
        path, kwargs = _example_path(template)
        match = resolve(path)
        assert match.kwargs == kwargs, f"{template} binds {match.kwargs}"
        for method in item:
            if method not in METHODS:
                continue
            assert method in match.func.actions, f"{method.upper()} {template}: not routed"
            key = (match.route, method)
            assert key not in routed, f"{template} and {routed[key]} land on one route"
            routed[key] = template
    return routed


def registered_operations() -> set[tuple[str, str]]:
    """(route, method) for every operation the router built; HEAD follows GET in DRF."""
    return {
        (PREFIX + str(pattern.pattern), method)
        for pattern in urls.urlpatterns
        for method in pattern.callback.actions
        if method != "head"
    }


def test_the_contract_has_thirty_operations_on_sixteen_paths():
    paths = reference_document()["paths"]
    assert len(paths) == 16
    assert len(contract_operations(reference_document())) == 30


def test_the_2026_contract_adds_five_operations_on_three_paths():
    assert len(reference_2026()["paths"]) == 19
    assert len(contract_operations()) == 35
    assert set(contract_operations(reference_document())) < set(contract_operations())


def extension_operations() -> set[tuple[str, str]]:
    """(route, method) of the operations the served schema marks `x-extension` (SPEC §12)."""
    found = set()
    for template, item in served_document()["paths"].items():
        for method, operation in item.items():
            if method in METHODS and operation.get("x-extension"):
                path, _ = _example_path(template.removeprefix("/"))
                found.add((resolve("/" + path).route, method))
    return found


def test_every_contract_operation_is_routed_and_nothing_else():
    extensions = extension_operations()
    assert not extensions & set(contract_operations())
    assert set(contract_operations()) | BEYOND_THE_YAML | extensions == registered_operations()


def test_the_extensions_are_the_rule_operations():
    prefix = PREFIX + "segments/<str:segment_id>/"
    assert extension_operations() == {
        (prefix + "rule", "get"),
        (prefix + "rule", "put"),
        (prefix + "rule", "delete"),
        (prefix + "rule/preview", "post"),
        (prefix + "explain", "get"),
        (PREFIX + "segments/match/explain", "post"),
    }


def test_literal_paths_are_not_taken_for_ids():
    # Each literal sits where an id could: the router must list it before the id's route.
    literals = {
        "/customer-segment/t1/segments/search": "search",
        "/customer-segment/t1/segments/bulk": "bulk_create",
        "/customer-segment/t1/segments/match": "match",
        "/customer-segment/t1/segments/items": "list",
        "/customer-segment/t1/segments/s1/customers/search": "search",
        "/customer-segment/t1/segments/s1/customers/bulk": "bulk_upsert",
        "/customer-segment/t1/segments/s1/groups/search": "search",
        "/customer-segment/t1/segments/me": "list",
        "/customer-segment/t1/segments/s1/items/product/bulk": "bulk_upsert",
        "/customer-segment/t1/segments/match/explain": "match_explain",
    }
    for path, action in literals.items():
        match = resolve(path)
        assert action in match.func.actions.values(), path
        assert not {"customer_id", "item_id", "group_id"} & set(match.kwargs), path
        assert "segment_id" not in match.kwargs or match.kwargs["segment_id"] == "s1", path
