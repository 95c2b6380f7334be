"""The list parameters in the served schema come from the seams the viewsets declare
(`ContractPagination`, `FieldsFilter`, `QueryFilter`, `SortFilter`), on every list and search
and nowhere else, and a page is described as the plain array it is."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator

LISTS = {
    "GET-customer-segment-retrieve-segments",
    "GET-customer-segment-retrieve-segments-items",
    "GET-customer-segment-retrieve-segment-items",
    "GET-customer-segment-retrieve-customers",
    "GET-customer-segment-retrieve-groups",
    "GET-customer-segment-retrieve-own-segments",
    "GET-customer-segment-retrieve-me-segments",
}
SEARCHES = {
    "POST-customer-segment-search-segments",
    "POST-customer-segment-search-items",
    "POST-customer-segment-search-customers",
    "POST-customer-segment-search-groups",
}
PAGING = {("query", "pageSize"), ("query", "pageNumber"), ("header", "X-Total-Count")}
LISTING = PAGING | {("query", "fields"), ("query", "sort")}


def operations() -> dict[str, dict]:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def parameters(operation: dict) -> set[tuple[str, str]]:
    return {(p["in"], p["name"]) for p in operation.get("parameters", [])}


def test_lists_take_q_in_the_query_and_searches_in_the_body():
    ops = operations()
    for operation_id in LISTS:
        assert LISTING | {("query", "q")} <= parameters(ops[operation_id]), operation_id
    for operation_id in SEARCHES:
        assert parameters(ops[operation_id]) >= LISTING, operation_id
        assert ("query", "q") not in parameters(ops[operation_id]), operation_id


def test_no_other_operation_is_paged():
    for operation_id, operation in operations().items():
        if operation_id not in LISTS | SEARCHES:
            assert not PAGING & parameters(operation), operation_id


def test_a_page_is_a_plain_array():
    ops = operations()
    for operation_id in LISTS | SEARCHES:
        schema = ops[operation_id]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["type"] == "array", operation_id
        assert schema["items"]["$ref"].startswith("#/components/schemas/"), operation_id
        assert "Paginated" not in schema["items"]["$ref"], operation_id
