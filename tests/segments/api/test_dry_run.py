"""`dryRun=true` on every write (SPEC §12): the real call's status and body, nothing written.

The walk covers every route the router builds (`segments.api.urls`), so a write added
later is walked too: every request but a GET is sent as a dry run, then for real, on the
same data. The dry run must leave every table exactly as it was (its rows read back in
SQL, events included), say `X-Dry-Run: true`, and answer what the real call then answers.
The cases below give each write a body that changes something; a route without a case is
still walked, with an empty object as its body.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from segments.api import urls
from segments.models import Event, Segment
from segments.services import events as event_services
from tests.conftest import MANAGE, READ
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
from tests.schema import served_document

pytestmark = pytest.mark.django_db

BASE = "/customer-segment/acme/"
SEG = "segments/<str:segment_id>"
# Path values for the routes' keyword arguments, unless a case names others.
PATH_VALUES = {
    "segment_id": "seg1",
    "customer_id": "c1",
    "legal_entity_id": "le1",
    "type": "product",
    "item_id": "p1",
    "group_id": "g1",
}
NEW = {"name": {"en": "New"}, "siteCode": "main"}
MATCH = {"siteCode": "main", "items": [{"id": "p1"}], "segmentIds": ["seg1"]}
# (route, method) → (path values, query, body): a request that writes (or, for the POSTs
# that only read, one that finds something).
CASES: dict[tuple[str, str], tuple[dict, dict, object]] = {
    ("segments", "post"): ({}, {}, {"id": "new", **NEW}),
    ("segments/search", "post"): ({}, {}, {"q": "siteCode:main"}),
    ("segments/match", "post"): ({}, {}, MATCH),
    ("segments/bulk", "post"): ({}, {}, [{"id": "n1", **NEW}, {"id": "seg1", **NEW}, {}]),
    ("segments/bulk", "put"): ({}, {}, [{"id": "seg1", **NEW}, {"id": "n2", **NEW}]),
    ("segments/bulk", "delete"): ({}, {"forceDelete": "true"}, ["empty", "seg1", "nosuch"]),
    (SEG, "put"): ({}, {}, {"name": {"en": "Renamed"}, "siteCode": "main"}),
    (SEG, "patch"): ({}, {}, [{"op": "replace", "path": "/status", "value": "INACTIVE"}]),
    (SEG, "delete"): ({}, {"forceDelete": "true"}, None),
    (f"{SEG}/customers/search", "post"): ({}, {}, {"q": "customer.id:c1"}),
    (f"{SEG}/customers/bulk", "put"): (
        {},
        {},
        [{"customerId": "c3"}, {"customerId": "c3", "legalEntityId": "le1"}, {"customerId": "x"}],
    ),
    (f"{SEG}/customers/bulk", "delete"): ({}, {}, [{"customerId": "c1"}, {"customerId": "x"}]),
    (f"{SEG}/customers/<str:customer_id>", "put"): ({"customer_id": "c3"}, {}, {}),
    (f"{SEG}/customers/<str:customer_id>", "delete"): ({}, {}, None),
    (f"{SEG}/customers/<str:customer_id>/<str:legal_entity_id>", "put"): (
        {"customer_id": "c3"},
        {},
        {"mixins": {"tier": 1}},
    ),
    (f"{SEG}/customers/<str:customer_id>/<str:legal_entity_id>", "delete"): (
        {"customer_id": "c2"},
        {},
        None,
    ),
    (f"{SEG}/items/search", "post"): ({}, {}, {"q": "type:PRODUCT"}),
    (f"{SEG}/items/<str:type>/bulk", "put"): ({}, {}, [{"id": "p2"}, {"id": "nosuch"}]),
    (f"{SEG}/items/<str:type>/bulk", "delete"): ({}, {}, ["p1", "nosuch"]),
    (f"{SEG}/items/<str:type>/<str:item_id>", "put"): (
        {"type": "category", "item_id": "cat2"},
        {},
        {},
    ),
    (f"{SEG}/items/<str:type>/<str:item_id>", "delete"): ({}, {}, None),
    (f"{SEG}/groups/search", "post"): ({}, {}, {"q": "group.id:g1"}),
    (f"{SEG}/rule", "put"): ({}, {}, {"q": "id:c3", "assign": "B2C", "enabled": True}),
    (f"{SEG}/rule/preview", "post"): ({}, {}, {"q": "id:c3", "assign": "B2C", "enabled": True}),
    ("segments/match/explain", "post"): ({}, {}, MATCH),
    (f"{SEG}/groups/<str:group_id>", "put"): ({"group_id": "g2"}, {}, {"mixins": {"tier": 1}}),
    (f"{SEG}/groups/<str:group_id>", "delete"): ({}, {}, None),
}
# The POSTs that only read: asked as dry runs, they answer as always.
READ_ONLY = {
    (route, method)
    for (route, method) in CASES
    if route.endswith(("search", "match", "match/explain", "rule/preview"))
}


def routes() -> list[tuple[str, str]]:
    """(route, method) of every operation but the GETs the router builds, in its order."""
    return [
        (str(pattern.pattern), method)
        for pattern in urls.urlpatterns
        for method in pattern.callback.actions
        if method not in ("get", "head")
    ]


@pytest.fixture
def data(tenant):
    """Segments with customers (B2C and B2B) and items, and what writes can add."""
    le1 = make_legal_entity(tenant, "le1")
    c1 = make_customer(tenant, "c1")
    c2 = make_customer(tenant, "c2", legal_entities=[le1])
    make_customer(tenant, "c3", legal_entities=[le1])
    p1 = make_product(tenant, "p1")
    make_product(tenant, "p2")
    cat1 = make_category(tenant, "cat1")
    make_category(tenant, "cat2")
    seg1 = make_segment(tenant, "seg1", mixins={"a": 1})
    make_segment(tenant, "empty")
    assign_customer(seg1, c1)
    assign_customer(seg1, c2, le1)
    assign_product(seg1, p1)
    assign_category(seg1, cat1)
    assign_group(seg1, make_group(tenant, "g1", members=[c1]))
    make_group(tenant, "g2", members=[c2])
    return tenant


@pytest.fixture
def client(tenant, make_client) -> APIClient:
    return make_client(tenant, MANAGE, READ)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, read in SQL."""
    rows = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows[table] = sorted(cursor.fetchall(), key=repr)
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return [table for table in after if before.get(table) != after[table]]


def url_for(route: str, values: dict, query: dict, *, dry_run: str | None) -> str:
    names = re.findall(r"<str:(\w+)>", route)
    path = route
    for name in names:
        path = path.replace(f"<str:{name}>", values.get(name, PATH_VALUES.get(name, "x")))
    query = {**query, **({"dryRun": dry_run} if dry_run is not None else {})}
    text = "&".join(f"{key}={value}" for key, value in query.items())
    return BASE + path + (f"?{text}" if text else "")


def send(client, method: str, url: str, body: object):
    if body is None:
        return client.generic(method.upper(), url)
    return client.generic(method.upper(), url, json.dumps(body), content_type="application/json")


# Instants a body reports of the call itself: a dry run's is a moment before the real call's.
CALL_INSTANTS = {"lastEvaluatedAt"}


def timeless(body: object) -> object:
    """`body` with the instants of the call itself replaced by a mark."""
    if isinstance(body, dict):
        return {k: "<instant>" if k in CALL_INSTANTS else timeless(v) for k, v in body.items()}
    if isinstance(body, list):
        return [timeless(element) for element in body]
    return body


def answer(response) -> tuple[int, object]:
    return response.status_code, (timeless(response.json()) if response.content else None)


@pytest.mark.parametrize(("route", "method"), routes(), ids=lambda value: value)
def test_every_write_route_as_a_dry_run_writes_nothing_and_answers_as_the_real_call(
    data, client, route, method
):
    values, query, body = CASES.get((route, method), ({}, {}, {}))
    before = snapshot()

    dry = send(client, method, url_for(route, values, query, dry_run="true"), body)

    assert changed_tables(before, snapshot()) == []
    read_only = (route, method) in READ_ONLY
    assert dry.get("X-Dry-Run") == (None if read_only else "true")
    real = send(client, method, url_for(route, values, query, dry_run=None), body)
    assert answer(dry) == answer(real)
    assert real.get("X-Dry-Run") is None
    if (route, method) in CASES:
        # The case is worth walking: the real call changes what the dry run did not.
        written = changed_tables(before, snapshot())
        assert written == [] if read_only else written, written


def test_the_cases_name_only_routes_the_router_builds():
    assert set(CASES) <= set(routes())


# Representative failures: the dry run refuses what the real call refuses, in its words.
FAILURES = [
    ("post", "segments", {}, {"id": "seg1", **NEW}),  # 409 exists
    ("delete", "segments/seg1", {}, None),  # 400 has assignments
    ("put", "segments/seg1", {}, {**NEW, "metadata": {"version": 7}}),  # 409 changed
    ("patch", "segments/seg1", {}, [{"op": "test", "path": "/status", "value": "INACTIVE"}]),
    ("patch", "segments/nosuch", {}, [{"op": "replace", "path": "/status", "value": "ACTIVE"}]),
    ("put", "segments/seg1/customers/nosuch", {}, {}),  # 400 unknown customer
    ("delete", "segments/seg1/items/product/p2", {}, None),  # 404
    ("put", "segments/seg1/items/product/bulk", {}, []),  # 400 empty batch
    ("delete", "segments/bulk", {}, ["seg1", "empty"]),  # 207: 400 and 204
]


@pytest.mark.parametrize(("method", "path", "query", "body"), FAILURES)
def test_a_refused_dry_run_answers_as_the_real_call(data, client, method, path, query, body):
    before = snapshot()
    dry = send(client, method, BASE + path + "?dryRun=true", body)
    assert changed_tables(before, snapshot()) == []
    assert dry["X-Dry-Run"] == "true"
    real = send(client, method, BASE + path, body)
    assert answer(dry) == answer(real)
    assert dry.status_code in (207, 400, 404, 409)


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "TRUE "])
def test_dry_run_with_another_value_is_a_400_naming_it(data, client, value):
    before = snapshot()
    response = client.put(
        f"{BASE}segments/seg1?dryRun={value}", {**NEW, "id": "seg1"}, format="json"
    )
    if value == "TRUE ":  # read in any case, spaces around it ignored
        assert response.status_code == 204
        assert changed_tables(before, snapshot()) == []
        return
    assert response.status_code == 400
    assert response.json()["message"] == f"dryRun must be true or false, not {value!r}."
    assert "X-Dry-Run" not in response
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("value", ["false", "0", ""])
def test_dry_run_false_is_the_real_call(data, client, value):
    response = client.post(f"{BASE}segments?dryRun={value}", {"id": "new", **NEW}, format="json")
    assert response.status_code == 201
    assert "X-Dry-Run" not in response
    assert Segment.objects.filter(external_id="new").exists()
    assert Event.objects.filter(resource_id="new").count() == 1


def test_a_dry_run_registers_no_commit_hook(
    data, client, monkeypatch, django_capture_on_commit_callbacks
):
    # As a webhook wake-up would: a hook registered while the change's events are recorded.
    woken = []
    actor = event_services.current_actor

    def actor_and_wake_up():
        transaction.on_commit(lambda: woken.append("wake up"))
        return actor()

    monkeypatch.setattr(event_services, "current_actor", actor_and_wake_up)
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        response = client.post(f"{BASE}segments?dryRun=true", {"id": "new", **NEW}, format="json")
    assert response.status_code == 201
    assert (hooks, woken) == ([], [])

    with django_capture_on_commit_callbacks(execute=True) as hooks:
        client.post(f"{BASE}segments", {"id": "new", **NEW}, format="json")
    assert (len(hooks), woken) == (1, ["wake up"])


def test_a_dry_run_on_a_read_is_the_read(data, client):
    response = client.get(f"{BASE}segments?dryRun=maybe")
    assert response.status_code == 200
    assert "X-Dry-Run" not in response


def test_the_served_schema_documents_dry_run_on_every_write_and_only_there():
    documented, writes = set(), set()
    for path, operations in served_document()["paths"].items():
        if not path.startswith("/customer-segment/{tenant}/"):
            continue
        for method, operation in operations.items():
            if method in ("get", "parameters"):
                continue
            names = {p["name"] for p in operation.get("parameters", [])}
            if "dryRun" in names:
                documented.add((method, path))
                parameter = next(p for p in operation["parameters"] if p["name"] == "dryRun")
                assert parameter["in"] == "query"
                assert parameter["schema"] == {"type": "boolean"}
                assert parameter["x-extension"] is True
                assert parameter["description"].startswith("Extension of the hosted contract")
                success = [r for code, r in operation["responses"].items() if code < "300"]
                assert success
                assert all(r["headers"]["X-Dry-Run"]["schema"]["enum"] == ["true"] for r in success)
            if not path.endswith(("/search", "/match", "/match/explain", "/rule/preview")):
                writes.add((method, path))
    assert documented == writes
    assert len(writes) >= 17


BOOKKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK|BEGIN|COMMIT)\b", re.I)
# The clock moves between the two calls: its readings in the statements are not compared.
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "segments/seg1", {"name": {"en": "Renamed"}, "siteCode": "main"}),
        ("delete", "segments/seg1?forceDelete=true", None),
        ("put", "segments/seg1/customers/bulk", [{"customerId": "c3"}, {"customerId": "c1"}]),
        ("delete", "segments/seg1/items/product/bulk", {"ids": ["p1"]}),
    ],
)
def test_a_dry_run_sends_the_real_calls_statements_in_its_order(data, client, method, path, body):
    # The same statements in the same order take the same row locks in the same order; the
    # dry run adds only its transaction's bookkeeping.
    from django.test.utils import CaptureQueriesContext

    def statements(url: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            send(client, method, url, body)
        return [
            INSTANT.sub("<instant>", q["sql"])
            for q in captured.captured_queries
            if not BOOKKEEPING.match(q["sql"])
        ]

    separator = "&" if "?" in path else "?"
    dry = statements(BASE + path + separator + "dryRun=true")
    real = statements(BASE + path)
    assert dry == real
    assert any(re.match(r"\s*(INSERT|UPDATE|DELETE)", sql) for sql in real)
