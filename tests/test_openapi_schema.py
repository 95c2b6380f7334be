"""The service's own OpenAPI document (served at /api/schema/) tells the truth about responses.

Every GET answers bodies that validate against the response schema the served document gives
for its status, with rows that leave out every optional field (no description, validity,
mixins, legal entity...), in both localized forms (maps, and plain strings for an
Accept-Language). Every status a request can meet on any tenant operation is documented.
Request bodies the service accepts validate against the documented request schemas.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from django.test import Client

from segments.services.rules import RuleInput, rule_upsert
from tests.conftest import MANAGE, READ, READ_OWN
from tests.factories import (
    assign_category,
    assign_customer,
    assign_group,
    assign_product,
    make_category,
    make_customer,
    make_group,
    make_legal_entity,
    make_product,
    make_segment,
)
from tests.schema import (
    assert_matches_served,
    served_document,
    served_parameter,
    served_request_schema,
)

TENANT_PREFIX = "/customer-segment/{tenant}/"
BASE = "/customer-segment/acme"

# (path template in the served document, concrete path, query, headers, token kind)
GET_CASES = [
    # Extensions (SPEC §12): the rule of "plain" (made in sparse_data), and explain.
    (
        "/customer-segment/{tenant}/segments/{segmentId}/rule",
        "/segments/plain/rule",
        {},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/explain",
        "/segments/plain/explain",
        {"customerId": "bare"},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/explain",
        "/segments/plain/explain",
        {"customerId": "bare", "legalEntityId": "le1"},
        {},
        "read",
    ),
    ("/customer-segment/{tenant}/segments", "/segments", {}, {}, "read"),
    ("/customer-segment/{tenant}/segments", "/segments", {}, {"Accept-Language": "de"}, "read"),
    ("/customer-segment/{tenant}/segments", "/segments", {}, {}, "customer"),
    ("/customer-segment/{tenant}/segments/{segmentId}", "/segments/plain", {}, {}, "read"),
    (
        "/customer-segment/{tenant}/segments/{segmentId}",
        "/segments/full",
        {},
        {"Accept-Language": "fr, en"},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/customers",
        "/segments/plain/customers",
        {},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/customers/{customerId}",
        "/segments/plain/customers/bare",
        {},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/customers/{customerId}/{legalEntityId}",
        "/segments/plain/customers/bare/le1",
        {},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/items",
        "/segments/plain/items",
        {},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/items",
        "/segments/plain/items",
        {},
        {"Accept-Language": "de"},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/items/{type}/{itemId}",
        "/segments/plain/items/product/p-bare",
        {},
        {},
        "read",
    ),
    ("/customer-segment/{tenant}/segments/items", "/segments/items", {}, {}, "read"),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/groups",
        "/segments/plain/groups",
        {},
        {},
        "read",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/groups",
        "/segments/plain/groups",
        {},
        {"Accept-Language": "de"},
        "customer",
    ),
    (
        "/customer-segment/{tenant}/segments/{segmentId}/groups/{groupId}",
        "/segments/plain/groups/nameless",
        {},
        {},
        "read",
    ),
    ("/customer-segment/{tenant}/segments/me", "/segments/me", {}, {}, "customer"),
    (
        "/customer-segment/{tenant}/me/segments",
        "/me/segments",
        {},
        {"Accept-Language": "de"},
        "customer",
    ),
    ("/customer-segment/{tenant}/segments/items", "/segments/items", {}, {}, "customer"),
    (
        "/customer-segment/{tenant}/segments/items/category-trees",
        "/segments/items/category-trees",
        {},
        {},
        "customer",
    ),
    (
        "/customer-segment/{tenant}/segments/items/category-trees",
        "/segments/items/category-trees",
        {},
        {"Accept-Language": "de"},
        "customer",
    ),
]


@pytest.fixture
def sparse_data(tenant):
    """Rows that leave out every optional field, next to one that sets them all."""
    plain = make_segment(tenant, "plain")  # no description, validity or mixins
    make_segment(
        tenant,
        "full",
        description={"en": "All fields"},
        mixins={"tier": {"level": 1}},
        metadata_mixins={"tier": "https://example.com/tier.json"},
        valid_from="2024-01-01T00:00:00Z",
    )
    legal_entity = make_legal_entity(tenant, "le1", name="")
    bare = make_customer(
        tenant, "bare", first_name="", last_name="", email="", legal_entities=[legal_entity]
    )
    assign_customer(plain, bare)  # B2C: no legalEntity, no mixins
    assign_customer(plain, bare, legal_entity)
    root = make_category(tenant, "root", name={"en": "Root"})
    leaf = make_category(tenant, "leaf", parent=root, name={"en": "Leaf"})
    assign_product(plain, make_product(tenant, "p-bare", name={}, categories=[leaf]))
    assign_category(plain, leaf)
    assign_group(plain, make_group(tenant, "nameless", members=[bare]))  # a group without a name
    assign_group(plain, make_group(tenant, "named", name={"en": "Named"}, members=[bare]))
    rule_upsert(tenant=tenant, segment_id="plain", data=RuleInput("id:bare", "B2C", True))


def _client(kind: str, tenant, make_token) -> Client:
    if kind == "customer":
        token = make_token(tenant, READ_OWN, customer="bare")
    else:
        token = make_token(tenant, READ, MANAGE)
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(
    ("template", "path", "query", "headers", "kind"),
    GET_CASES,
    ids=[f"{case[1]}-{case[4]}-{'|'.join(case[3].values()) or 'maps'}" for case in GET_CASES],
)
def test_get_responses_match_the_served_schema(
    template, path, query, headers, kind, tenant, make_token, sparse_data
):
    response = _client(kind, tenant, make_token).get(BASE + path, query, headers=headers)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body, "an empty answer proves nothing about the schema"
    assert_matches_served(body, template, "get", 200)


def test_every_get_operation_of_the_served_schema_is_checked():
    paths = served_document()["paths"]
    gets = {path for path, operations in paths.items() if "get" in operations}

    assert gets - {"/healthz", "/readyz"} == {case[0] for case in GET_CASES}


def test_the_health_answer_matches_the_served_schema(db):
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert_matches_served(response.json(), "/healthz", "get", 200)


def test_the_readiness_answer_matches_the_served_schema(db):
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert_matches_served(response.json(), "/readyz", "get", 200)


def test_every_tenant_operation_documents_the_errors_any_request_can_meet():
    # A malformed tenant name or a NUL in the path is a 400, a token of a tenant that no
    # longer exists a 404: whatever the operation.
    undocumented = [
        f"{method.upper()} {path}: {code}"
        for path, operations in served_document()["paths"].items()
        if path.startswith(TENANT_PREFIX)
        for method, operation in operations.items()
        for code in ("400", "401", "403", "404")
        if code not in operation["responses"]
    ]

    assert undocumented == []


@pytest.mark.parametrize(
    ("method", "template", "path"),
    [
        (
            "get",
            "/customer-segment/{tenant}/segments/{segmentId}",
            "/segments/plain?legalEntityId=",
        ),
        (
            "get",
            "/customer-segment/{tenant}/segments/{segmentId}/customers/{customerId}",
            "/segments/plain/customers/ba%00re",
        ),
        (
            "delete",
            "/customer-segment/{tenant}/segments/{segmentId}/customers/{customerId}/{legalEntityId}",
            "/segments/plain/customers/bare/le%001",
        ),
    ],
)
def test_a_400_is_documented_with_the_body_it_has(
    method, template, path, tenant, make_token, sparse_data
):
    response = getattr(_client("read", tenant, make_token), method)(BASE + path)

    assert response.status_code == 400, response.content
    assert_matches_served(response.json(), template, method, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"metadata": {"mixins": {"tier": None}}},
        {"name": {"de": None}},
        {"description": {"en": None}},
        {"status": None},
        {"validity": {"from": None}},
        {"mixins": {"tier": None}},
        {"metadata": {"version": None}},
    ],
    ids=lambda body: str(body),
)
def test_a_merge_patch_the_service_accepts_is_documented(body, tenant, make_token, sparse_data):
    # RFC 7396: a null member, at any depth, removes what it names.
    path = "/customer-segment/{tenant}/segments/{segmentId}"
    response = _client("read", tenant, make_token).patch(
        f"{BASE}/segments/full", body, content_type="application/merge-patch+json"
    )

    assert response.status_code == 204, response.content
    jsonschema.validate(body, served_request_schema(path, "patch", "application/merge-patch+json"))


SEGMENT_PATH = "/customer-segment/{tenant}/segments"
ITEM_PATH = "/customer-segment/{tenant}/segments/{segmentId}/items/{type}/{itemId}"


@pytest.mark.parametrize("name", ["pageNumber", "pageSize"])
def test_an_empty_page_parameter_is_read_as_absent_as_documented(
    name, tenant, make_token, sparse_data
):
    response = _client("read", tenant, make_token).get(f"{BASE}/segments", {name: ""})

    assert response.status_code == 200
    assert served_parameter(SEGMENT_PATH, "get", name)["allowEmptyValue"] is True


@pytest.mark.parametrize(
    ("template", "path", "body"),
    [
        (SEGMENT_PATH + "/search", "/segments/search", {"q": None}),
        (SEGMENT_PATH + "/search", "/segments/search", None),  # a JSON null
        (SEGMENT_PATH + "/{segmentId}/customers/search", "/segments/plain/customers/search", {}),
        (SEGMENT_PATH + "/{segmentId}/items/search", "/segments/plain/items/search", {"q": None}),
    ],
)
def test_a_search_body_the_service_accepts_is_documented(
    template, path, body, tenant, make_token, sparse_data
):
    response = _client("read", tenant, make_token).post(
        BASE + path, json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 200, response.content
    jsonschema.validate(body, served_request_schema(template, "post", "application/json"))


def test_a_search_body_with_another_member_is_refused_as_documented(
    tenant, make_token, sparse_data
):
    body = {"q": "", "sort": "id"}
    response = _client("read", tenant, make_token).post(
        f"{BASE}/segments/plain/items/search", body, content_type="application/json"
    )

    assert response.status_code == 400
    schema = served_request_schema(
        SEGMENT_PATH + "/{segmentId}/items/search", "post", "application/json"
    )
    assert not jsonschema.Draft7Validator(schema).is_valid(body)


@pytest.mark.parametrize("body", [{}, [{"op": "replace", "path": "/status", "value": "ACTIVE"}]])
def test_a_plain_json_patch_body_may_be_either_kind_as_documented(
    body, tenant, make_token, sparse_data
):
    response = _client("read", tenant, make_token).patch(
        f"{BASE}/segments/full", body, content_type="application/json"
    )

    assert response.status_code == 204, response.content
    schema = served_request_schema(SEGMENT_PATH + "/{segmentId}", "patch", "application/json")
    jsonschema.validate(body, schema)


@pytest.mark.parametrize(
    ("template", "path", "parameter", "value"),
    [
        (SEGMENT_PATH, "/segments?customerId=%20", "customerId", " "),
        (SEGMENT_PATH, "/segments?legalEntityId=", "legalEntityId", ""),
        (SEGMENT_PATH, "/segments?pageSize=1001", "pageSize", 1001),
        (SEGMENT_PATH, "/segments?pageNumber=0", "pageNumber", 0),
        (SEGMENT_PATH + "/items", "/segments/items?siteCode=", "siteCode", ""),
        (ITEM_PATH, "/segments/plain/items/thing/p-bare", "type", "thing"),
    ],
)
def test_a_parameter_the_service_refuses_breaks_its_documented_schema(
    template, path, parameter, value, tenant, make_token, sparse_data
):
    response = _client("read", tenant, make_token).get(BASE + path)

    assert response.status_code == 400, response.content
    schema = served_parameter(template, "get", parameter)["schema"]
    assert not jsonschema.Draft7Validator(schema).is_valid(value)


@pytest.mark.parametrize(
    ("template", "path", "parameter", "value"),
    [
        (SEGMENT_PATH, "/segments?pageSize=1000", "pageSize", 1000),
        (ITEM_PATH, "/segments/plain/items/Product/p-bare", "type", "Product"),
        (SEGMENT_PATH, "/segments?customerId=bare", "customerId", "bare"),
    ],
)
def test_a_parameter_the_service_accepts_fits_its_documented_schema(
    template, path, parameter, value, tenant, make_token, sparse_data
):
    response = _client("read", tenant, make_token).get(BASE + path)

    assert response.status_code == 200, response.content
    jsonschema.validate(value, served_parameter(template, "get", parameter)["schema"])


def test_any_x_total_count_value_but_true_is_accepted_as_documented(
    tenant, make_token, sparse_data
):
    response = _client("read", tenant, make_token).get(
        f"{BASE}/segments", headers={"X-Total-Count": "banana"}
    )

    assert response.status_code == 200
    assert "X-Total-Count" not in response
    jsonschema.validate("banana", served_parameter(SEGMENT_PATH, "get", "X-Total-Count")["schema"])


@pytest.mark.parametrize(
    ("template", "path", "body"),
    [
        (SEGMENT_PATH + "/bulk", "/segments/bulk", ["nosuch"]),
        (SEGMENT_PATH + "/bulk", "/segments/bulk", {"ids": ["nosuch"]}),
        (
            SEGMENT_PATH + "/{segmentId}/customers/bulk",
            "/segments/plain/customers/bulk",
            [{"customerId": "bare", "legalEntityId": None}],
        ),
        (
            SEGMENT_PATH + "/{segmentId}/customers/bulk",
            "/segments/plain/customers/bulk",
            {"ids": ["bare", {"customerId": "bare", "legalEntityId": "le1"}]},
        ),
        (
            SEGMENT_PATH + "/{segmentId}/items/{type}/bulk",
            "/segments/plain/items/PRODUCT/bulk",
            ["p"],
        ),
        (
            SEGMENT_PATH + "/{segmentId}/items/{type}/bulk",
            "/segments/plain/items/PRODUCT/bulk",
            {"ids": ["p"]},
        ),
    ],
)
def test_both_forms_of_a_bulk_delete_body_are_documented(
    template, path, body, tenant, make_token, sparse_data
):
    response = _client("manage", tenant, make_token).delete(
        BASE + path, json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 207, response.content
    schema = served_request_schema(template, "delete", "application/json")
    jsonschema.validate(body, schema)
    assert [len(schema["oneOf"]), schema["oneOf"][1]["required"]] == [2, ["ids"]]
