"""Every route, every kind of token, two tenants holding the same ids: nothing crosses over.

Both tenants hold the same segments, customers, legal entities, products and categories
under the same ids; only the names differ (each carries its tenant's name), so a row of the
other tenant in a response is found by that name. The routes walked are the routes
`segments.api.urls` registers: a route added there fails `test_every_route_is_walked`
until it is placed in `READS` (and gets its expected statuses) or in `WRITES`.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from rest_framework.test import APIClient

from segments.api import urls
from segments.choices import SegmentStatus
from segments.models import CustomerAssignment, GroupAssignment, ItemAssignment, Segment
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

TENANTS = ("acme", "globex")
SEGMENT_IDS = ("mine", "mine-b2b", "others", "inactive-mine")
NO_CUSTOMER = "A customersegment.segment_read_own token must carry a customerId."


def other(name: str) -> str:
    return TENANTS[1] if name == TENANTS[0] else TENANTS[0]


def populate(tenant) -> None:
    """The same rows under the same ids in every tenant, named after the tenant.

    "me" belongs to two legal entities, so acting for le1 narrows to le1's assignments.
    mine: me (B2C); mine-b2b: me for le1; inactive-mine: me (B2C), INACTIVE; others:
    only "someone". Each segment holds product p-<segment> and category cat-<segment>
    (all under the category "root"); mine also holds p-only-<this tenant>, and the product
    p-only-<other tenant> exists here unassigned. The group "fans" (only "someone" in it)
    is assigned to every segment.
    """
    name = tenant.name
    le1 = make_legal_entity(tenant, "le1", name=f"{name} company 1")
    le2 = make_legal_entity(tenant, "le2", name=f"{name} company 2")
    me = make_customer(tenant, "me", legal_entities=[le1, le2], first_name=name)
    someone = make_customer(tenant, "someone", legal_entities=[le1], first_name=name)
    root = make_category(tenant, "root", name={"en": f"{name} root"})
    fans = make_group(tenant, "fans", name={"en": f"{name} fans"}, members=[someone])
    segments = {}
    for segment_id in SEGMENT_IDS:
        status = SegmentStatus.INACTIVE if segment_id == "inactive-mine" else SegmentStatus.ACTIVE
        segment = make_segment(
            tenant, segment_id, name={"en": f"{name} {segment_id}"}, status=status
        )
        assign_product(
            segment, make_product(tenant, f"p-{segment_id}", name={"en": f"{name} product"})
        )
        category = make_category(
            tenant, f"cat-{segment_id}", parent=root, name={"en": f"{name} category"}
        )
        assign_category(segment, category)
        assign_customer(segment, someone)
        assign_customer(segment, someone, le1)
        assign_group(segment, fans)
        segments[segment_id] = segment
    assign_customer(segments["mine"], me)
    assign_customer(segments["mine-b2b"], me, le1)
    assign_customer(segments["inactive-mine"], me)
    assign_product(
        segments["mine"], make_product(tenant, f"p-only-{name}", name={"en": f"{name} only"})
    )
    make_product(tenant, f"p-only-{other(name)}", name={"en": f"{name} unassigned"})


KINDS = ("manage", "read", "own", "own+le", "read+own", "own-no-customer", "other", "none")


def client_of(kind: str, tenant: str, make_token) -> APIClient:
    """A client for one kind of token on `tenant`; 500s come back as responses."""
    tokens = {
        "manage": lambda: make_token(tenant, MANAGE),
        "read": lambda: make_token(tenant, READ),
        "own": lambda: make_token(tenant, READ_OWN, customer="me"),
        "own+le": lambda: make_token(tenant, READ_OWN, customer="me", legal_entity="le1"),
        "read+own": lambda: make_token(tenant, READ, READ_OWN),
        "own-no-customer": lambda: make_token(tenant, READ_OWN),
        # Every scope and a customer, but for the other tenant.
        "other": lambda: make_token(other(tenant), MANAGE, READ, READ_OWN, customer="me"),
        "none": None,
    }
    client = APIClient(raise_request_exception=False)
    if tokens[kind] is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[kind]()}")
    return client


MATCH_BODY = {
    "siteCode": "main",
    "items": [{"id": "p-mine"}, {"id": "p-only-acme"}, {"id": "p-only-globex"}, {"id": "p-others"}],
    "segmentIds": ["mine", "mine-b2b"],
}

# Expected statuses, one column per kind in KINDS' order:
#        manage read own own+le read+own own-no-customer other none
READ_OR_OWN = (403, 200, 200, 200, 200, 403, 403, 401)
READ_ONLY = (403, 200, 403, 403, 200, 403, 403, 401)
# A per-segment read: a customer reads only through its own effective segments.
THROUGH = {
    "mine": (403, 200, 200, 404, 200, 403, 403, 401),
    "mine-b2b": READ_OR_OWN,
    "others": (403, 200, 404, 404, 200, 403, 403, 401),
}
# The B2C assignment of "me" is in mine, its B2B one (le1) in mine-b2b.
B2C = {
    "mine": READ_ONLY,
    "mine-b2b": (403, 404, 403, 403, 404, 403, 403, 401),
    "others": (403, 404, 403, 403, 404, 403, 403, 401),
}
B2B = {
    "mine": (403, 404, 403, 403, 404, 403, 403, 401),
    "mine-b2b": READ_ONLY,
    "others": (403, 404, 403, 403, 404, 403, 403, 401),
}


class Read(NamedTuple):
    """One read request of the walk and what each kind of token gets from it."""

    route: tuple[str, str]  # (route name, HTTP method)
    label: str
    method: str
    path: str  # below /customer-segment/{tenant}/
    body: object
    statuses: tuple[int, ...]  # in KINDS' order
    shape: str | None = None  # how `summary` reads a 200 answer


def read_requests() -> list[Read]:
    """Every read request of the walk."""
    own_only = (403, 403, 200, 200, 403, 403, 403, 401)
    requests = [
        Read(("segment-list", "get"), "segments", "get", "segments", None, READ_OR_OWN, "ids"),
        Read(
            ("segment-list", "get"),
            "segments?customerId=someone",
            "get",
            "segments?customerId=someone",
            None,
            READ_OR_OWN,
            "ids",
        ),
        Read(
            ("segment-list", "get"),
            "segments?customerId=me&legalEntityId=le1",
            "get",
            "segments?customerId=me&legalEntityId=le1",
            None,
            READ_OR_OWN,
            "ids",
        ),
        Read(
            ("segment-search", "post"),
            "segments/search",
            "post",
            "segments/search",
            {},
            READ_OR_OWN,
            "ids",
        ),
        Read(
            ("segment-match", "post"),
            "segments/match",
            "post",
            "segments/match",
            MATCH_BODY,
            (200, 403, 403, 403, 403, 403, 403, 401),
            "ids",
        ),
        Read(("segment-items-list", "get"), "items", "get", "segments/items", None, READ_OR_OWN,
             "items"),
        Read(
            ("segment-items-list", "get"),
            "items?siteCode=main&onlyActive=true",
            "get",
            "segments/items?siteCode=main&onlyActive=true",
            None,
            READ_OR_OWN,
            "items",
        ),
        Read(("segment-items-category-trees", "get"), "category-trees", "get",
             "segments/items/category-trees", None, own_only, "trees"),
        Read(("segment-items-category-trees", "get"), "category-trees?siteCode=main", "get",
             "segments/items/category-trees?siteCode=main", None, own_only, "trees"),
        Read(("segments-me-list", "get"), "segments/me", "get", "segments/me", None, own_only,
             "ids"),
        Read(("me-segments-list", "get"), "me/segments", "get", "me/segments", None, own_only,
             "ids"),
    ]  # fmt: skip
    # "fans" counts for none of the tokens' customers: a customer finds no such assignment.
    group_detail = (403, 200, 404, 404, 200, 403, 403, 401)
    for s in ("mine", "mine-b2b", "others"):
        base = f"segments/{s}"
        requests += [
            Read(("segment-detail", "get"), s, "get", base, None, THROUGH[s]),
            Read(("customer-assignment-list", "get"), f"{s}/customers", "get",
                 f"{base}/customers", None, THROUGH[s], "customers"),
            Read(("customer-assignment-search", "post"), f"{s}/customers/search", "post",
                 f"{base}/customers/search", {}, READ_ONLY, "customers"),
            Read(("customer-assignment-detail", "get"), f"{s}/customers/me", "get",
                 f"{base}/customers/me", None, B2C[s]),
            Read(("customer-assignment-b2b", "get"), f"{s}/customers/me/le1", "get",
                 f"{base}/customers/me/le1", None, B2B[s]),
            Read(("item-assignment-list", "get"), f"{s}/items", "get", f"{base}/items", None,
                 THROUGH[s], "items"),
            Read(("item-assignment-search", "post"), f"{s}/items/search", "post",
                 f"{base}/items/search", {}, THROUGH[s], "items"),
            Read(("item-assignment-detail", "get"), f"{s}/items/product/p-{s}", "get",
                 f"{base}/items/product/p-{s}", None, THROUGH[s]),
            Read(("group-assignment-list", "get"), f"{s}/groups", "get", f"{base}/groups",
                 None, THROUGH[s], "groups"),
            Read(("group-assignment-search", "post"), f"{s}/groups/search", "post",
                 f"{base}/groups/search", {}, THROUGH[s], "groups"),
            Read(("group-assignment-detail", "get"), f"{s}/groups/fans", "get",
                 f"{base}/groups/fans", None, group_detail),
            # Extensions (SPEC §12): no segment here has a rule.
            Read(("segment-rule-rule", "get"), f"{s}/rule", "get", f"{base}/rule", None,
                 (403, 404, 403, 403, 404, 403, 403, 401)),
            Read(("segment-rule-explain", "get"), f"{s}/explain", "get",
                 f"{base}/explain?customerId=me", None, READ_ONLY),
        ]  # fmt: skip
    return requests


READS = {read.route for read in read_requests()}
WRITES = {
    ("segment-list", "post"),
    ("segment-bulk", "post"),
    ("segment-bulk", "put"),
    ("segment-bulk", "delete"),
    ("segment-detail", "put"),
    ("segment-detail", "patch"),
    ("segment-detail", "delete"),
    ("customer-assignment-bulk", "put"),
    ("customer-assignment-bulk", "delete"),
    ("customer-assignment-detail", "put"),
    ("customer-assignment-detail", "delete"),
    ("customer-assignment-b2b", "put"),
    ("customer-assignment-b2b", "delete"),
    ("item-assignment-bulk", "put"),
    ("item-assignment-bulk", "delete"),
    ("item-assignment-detail", "put"),
    ("item-assignment-detail", "delete"),
    ("group-assignment-detail", "put"),
    ("group-assignment-detail", "delete"),
    ("segment-rule-rule", "put"),
    ("segment-rule-rule", "delete"),
    ("segment-rule-preview", "post"),
    ("match-explain-match-explain", "post"),
}
WRITE_PATHS = {
    "segment-list": "segments",
    "segment-bulk": "segments/bulk",
    "segment-detail": "segments/mine",
    "customer-assignment-bulk": "segments/mine/customers/bulk",
    "customer-assignment-detail": "segments/mine/customers/me",
    "customer-assignment-b2b": "segments/mine/customers/me/le1",
    "item-assignment-bulk": "segments/mine/items/product/bulk",
    "item-assignment-detail": "segments/mine/items/product/p-mine",
    "group-assignment-detail": "segments/mine/groups/fans",
    "segment-rule-rule": "segments/mine/rule",
    "segment-rule-preview": "segments/mine/rule/preview",
    "match-explain-match-explain": "segments/match/explain",
}


def registered_routes() -> set[tuple[str, str]]:
    """(route name, HTTP method) for every operation `segments.api.urls` serves.

    HEAD is left out: DRF serves it wherever there is a GET, with the GET's action.
    """
    return {
        (pattern.name, method)
        for pattern in urls.urlpatterns
        for method in pattern.callback.actions
        if method != "head"
    }


def test_every_route_is_walked():
    assert not READS & WRITES
    assert registered_routes() == READS | WRITES
    # Every GET is a read: a new one cannot be filed away as a write.
    assert {route for route in registered_routes() if route[1] == "get"} <= READS


def call(client: APIClient, method: str, path: str, body):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def summary(shape: str | None, body) -> object:
    """What a 200 answer holds, in a comparable form."""
    if shape == "ids":
        return [row["id"] for row in body]
    if shape == "items":
        return sorted({row["segmentId"] for row in body})
    if shape == "groups":
        return [row["group"]["id"] for row in body]
    if shape == "customers":
        return [(row["customer"]["id"], row.get("legalEntity", {}).get("id")) for row in body]
    if shape == "trees":

        def assigned(nodes):
            for node in nodes:
                if node["isSegmentAssigned"]:
                    yield node["id"]
                yield from assigned(node.get("subcategories", []))

        return sorted(assigned(body))
    return None


def expected_summaries(tenant: str) -> dict[tuple[str, str], object]:
    """(label, kind) → summary, for the answers whose rows depend on who asks."""
    everything = ["inactive-mine", "mine", "mine-b2b", "others"]
    expected: dict[tuple[str, str], object] = {}
    for kind in ("read", "read+own"):
        expected |= {
            ("segments", kind): everything,
            ("segments/search", kind): everything,
            ("segments?customerId=someone", kind): everything,
            ("segments?customerId=me&legalEntityId=le1", kind): ["mine-b2b"],
            ("items", kind): everything,
            ("items?siteCode=main&onlyActive=true", kind): ["mine", "mine-b2b", "others"],
            ("mine/customers", kind): [("me", None), ("someone", None), ("someone", "le1")],
            ("mine-b2b/customers", kind): [("me", "le1"), ("someone", None), ("someone", "le1")],
            ("others/customers", kind): [("someone", None), ("someone", "le1")],
            ("mine/groups", kind): ["fans"],
            ("others/groups/search", kind): ["fans"],
        }
    # A customer sees its own effective segments whatever the query asks.
    for kind, segments in (("own", ["mine", "mine-b2b"]), ("own+le", ["mine-b2b"])):
        expected |= {
            ("segments", kind): segments,
            ("segments/search", kind): segments,
            ("segments?customerId=someone", kind): segments,
            # A customer token without a legal entity may name one, as the contract says.
            ("segments?customerId=me&legalEntityId=le1", kind): ["mine-b2b"],
            ("items", kind): segments,
            ("items?siteCode=main&onlyActive=true", kind): segments,
            ("category-trees", kind): [f"cat-{s}" for s in segments],
            ("category-trees?siteCode=main", kind): [f"cat-{s}" for s in segments],
            ("mine-b2b/customers", kind): [("me", "le1")],
            ("segments/me", kind): segments,
            ("me/segments", kind): segments,
            ("mine-b2b/groups", kind): [],
        }
    expected[("mine/customers", "own")] = [("me", None)]
    expected[("segments/match", "manage")] = ["p-mine", f"p-only-{tenant}"]
    return expected


@pytest.fixture
def tenants(tenant, other_tenant):
    assert (tenant.name, other_tenant.name) == TENANTS
    populate(tenant)
    populate(other_tenant)
    return {tenant.name: tenant, other_tenant.name: other_tenant}


@pytest.mark.django_db
class TestEveryReadRoute:
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("path_tenant", TENANTS)
    def test_statuses_rows_and_no_other_tenant(self, tenants, make_token, path_tenant, kind):
        client = client_of(kind, path_tenant, make_token)
        column = KINDS.index(kind)
        foreign = other(path_tenant).encode()
        statuses, expected_statuses, leaks, rows = {}, {}, [], {}
        for read in read_requests():
            response = call(
                client, read.method, f"/customer-segment/{path_tenant}/{read.path}", read.body
            )
            statuses[read.label] = response.status_code
            expected_statuses[read.label] = read.statuses[column]
            assert response["Content-Type"].startswith("application/json"), read.label
            if foreign in response.content:
                leaks.append(read.label)
            if response.status_code == 200:
                rows[read.label] = summary(read.shape, response.json())
            elif response.status_code != 401:
                assert response.json()["code"] == response.status_code, read.label
        assert statuses == expected_statuses
        assert leaks == []
        wanted = {
            label: summary_
            for (label, who), summary_ in expected_summaries(path_tenant).items()
            if who == kind
        }
        assert {label: rows[label] for label in wanted} == wanted

    def test_a_token_without_a_customer_is_told_why(self, tenants, make_token):
        client = client_of("own-no-customer", "acme", make_token)
        for path in ("segments", "segments/items", "segments/mine/items"):
            response = client.get(f"/customer-segment/acme/{path}")
            assert response.status_code == 403, path
            assert response.json() == {"code": 403, "status": "Forbidden", "message": NO_CUSTOMER}

    @pytest.mark.parametrize("query", ["", "?siteCode=main"])
    def test_category_trees_need_a_customer_even_with_the_read_scope(
        self, tenants, make_token, query
    ):
        client = client_of("read+own", "acme", make_token)
        response = client.get(f"/customer-segment/acme/segments/items/category-trees{query}")
        assert response.status_code == 403
        assert response.json() == {"code": 403, "status": "Forbidden", "message": NO_CUSTOMER}


def counts() -> dict[str, list[int]]:
    """Rows per tenant and table, to show that a refused write changed nothing."""
    return {
        model.__name__: [model.objects.filter(tenant_id=name).count() for name in TENANTS]
        for model in (Segment, CustomerAssignment, ItemAssignment, GroupAssignment)
    }


@pytest.mark.django_db
class TestEveryWriteRoute:
    @pytest.mark.parametrize(
        ("kind", "status"), [("other", 403), ("none", 401), ("read", 403), ("own", 403)]
    )
    def test_refused_writes_change_nothing(self, tenants, make_token, kind, status):
        before = counts()
        client = client_of(kind, "acme", make_token)
        answers = {}
        for name, method in sorted(WRITES):
            response = call(client, method, f"/customer-segment/acme/{WRITE_PATHS[name]}", [])
            answers[(name, method)] = response.status_code
        assert answers == dict.fromkeys(WRITES, status)
        assert counts() == before
