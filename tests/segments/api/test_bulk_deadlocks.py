"""Racing bulk writes on PostgreSQL: overlapping ids in opposite orders never deadlock.

In every round sixteen writers are released at once, each with a window of the same ids;
two writers share each window, one of them sending it in the opposite order. No request
may fail on the server, every element ends in exactly one state, and the 207 bodies and
the recorded events tell one consistent story of how it got there (checked in SQL).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.concurrency import POSTGRES_RACE, race
from tests.conftest import MANAGE
from tests.factories import (
    assign_customer,
    assign_product,
    make_customer,
    make_product,
    make_segment,
)

pytestmark = POSTGRES_RACE

WORKERS = 16
ROUNDS = 10
IDS_PER_ROUND = 40
WINDOW = 24  # ids per request: each window overlaps its neighbours'
BASE = "/customer-segment/acme/segments"
# What a 207 entry says happened to its element.
OUTCOMES = {
    ("put", 201): "created",
    ("put", 204): "updated",
    ("delete", 204): "deleted",
    ("delete", 404): "absent",
}
CHANGES = ("created", "updated", "deleted")


def windows(ids: Sequence[str]) -> list[list[str]]:
    """One window of ids per worker: workers 2k and 2k+1 get the same ids in opposite orders."""
    step = len(ids) // (WORKERS // 2)
    plans = []
    for worker in range(WORKERS):
        start = (worker // 2) * step
        window = [ids[(start + k) % len(ids)] for k in range(WINDOW)]
        plans.append(window if worker % 2 == 0 else window[::-1])
    return plans


def sql(query: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


class Segments:
    """`/segments/bulk`: the keys are segment ids; DELETE forces, each segment holds a product."""

    def prepare(self, tenant, round_: int, *, present: bool) -> tuple[str, list[str]]:
        """Returns the round's scope (an id prefix) and its keys."""
        prefix = f"r{round_:02d}-"
        ids = [f"{prefix}{n:02d}" for n in range(IDS_PER_ROUND)]
        if present:
            product = make_product(tenant)
            for segment_id in ids:
                assign_product(make_segment(tenant, segment_id), product)
        return prefix, ids

    def send(self, client: APIClient, prefix: str, method: str, keys: list[str]):
        if method == "put":
            body = [{"id": k, "name": {"en": f"Segment {k}"}, "siteCode": "main"} for k in keys]
            return client.put(f"{BASE}/bulk", body, format="json")
        return client.delete(f"{BASE}/bulk?forceDelete=true", keys, format="json")

    def resource_id(self, prefix: str, key: str) -> str:
        return key

    def stored(self, prefix: str) -> dict[str, int]:
        """How many rows each key has, and for segments how many item assignments."""
        rows = sql(
            "SELECT s.external_id, count(DISTINCT s.id), count(a.id) FROM segments_segment s"
            " LEFT JOIN segments_itemassignment a ON a.segment_id = s.id"
            " WHERE s.tenant_id = 'acme' AND s.external_id LIKE %s GROUP BY s.external_id",
            [f"{prefix}%"],
        )
        self.assignments = {segment_id: held for segment_id, _, held in rows}
        return {segment_id: count for segment_id, count, _ in rows}

    def check(self, key: str, history: list[str], *, initially: bool) -> None:
        """A segment that was never deleted keeps its product; a recreated one starts empty."""
        if key in self.assignments:
            kept = initially and "deleted" not in history
            assert self.assignments[key] == int(kept), (key, history)


class CustomerAssignments:
    """`/segments/{id}/customers/bulk` of one new segment per round: the keys are customer ids."""

    def prepare(self, tenant, round_: int, *, present: bool) -> tuple[str, list[str]]:
        segment = make_segment(tenant, f"r{round_:02d}")
        keys = [f"c{n:02d}" for n in range(IDS_PER_ROUND)]
        for key in keys:
            customer = make_customer(tenant, f"{segment.external_id}{key}")
            if present:
                assign_customer(segment, customer)
        return segment.external_id, keys

    def send(self, client: APIClient, segment: str, method: str, keys: list[str]):
        body = [{"customerId": f"{segment}{k}"} for k in keys]
        return getattr(client, method)(f"{BASE}/{segment}/customers/bulk", body, format="json")

    def resource_id(self, segment: str, key: str) -> str:
        return f"{segment}/{segment}{key}"

    def stored(self, segment: str) -> dict[str, int]:
        rows = sql(
            "SELECT c.external_id, count(*) FROM segments_customerassignment a"
            " JOIN segments_customer c ON c.id = a.customer_id"
            " JOIN segments_segment s ON s.id = a.segment_id"
            " WHERE a.tenant_id = 'acme' AND s.external_id = %s AND a.legal_entity_id IS NULL"
            " GROUP BY c.external_id",
            [segment],
        )
        return {customer.removeprefix(segment): count for customer, count in rows}

    def check(self, key: str, history: list[str], *, initially: bool) -> None:
        pass


class ItemAssignments:
    """`/segments/{id}/items/product/bulk` of one new segment per round: the keys are products."""

    def prepare(self, tenant, round_: int, *, present: bool) -> tuple[str, list[str]]:
        segment = make_segment(tenant, f"r{round_:02d}")
        keys = [f"p{n:02d}" for n in range(IDS_PER_ROUND)]
        for key in keys:
            product = make_product(tenant, f"{segment.external_id}{key}")
            if present:
                assign_product(segment, product)
        return segment.external_id, keys

    def send(self, client: APIClient, segment: str, method: str, keys: list[str]):
        url = f"{BASE}/{segment}/items/product/bulk"
        if method == "put":
            return client.put(url, [{"id": f"{segment}{k}"} for k in keys], format="json")
        return client.delete(url, [f"{segment}{k}" for k in keys], format="json")

    def resource_id(self, segment: str, key: str) -> str:
        return f"{segment}/PRODUCT/{segment}{key}"

    def stored(self, segment: str) -> dict[str, int]:
        rows = sql(
            "SELECT p.external_id, count(*) FROM segments_itemassignment a"
            " JOIN segments_product p ON p.id = a.product_id"
            " JOIN segments_segment s ON s.id = a.segment_id"
            " WHERE a.tenant_id = 'acme' AND s.external_id = %s GROUP BY p.external_id",
            [segment],
        )
        return {product.removeprefix(segment): count for product, count in rows}

    def check(self, key: str, history: list[str], *, initially: bool) -> None:
        pass


KINDS = pytest.mark.parametrize(
    "kind",
    [Segments(), CustomerAssignments(), ItemAssignments()],
    ids=["segments", "customer-assignments", "item-assignments"],
)


def event_history() -> dict[str, list[str]]:
    """Per resource id, what its events say happened (`created`, ...), in commit order.

    Writers of one resource hold its row (or its unique key) while they record the event,
    so one resource's events are numbered in the order their transactions committed.
    """
    history: dict[str, list[str]] = defaultdict(list)
    for resource_id, type_ in sql(
        "SELECT resource_id, type FROM segments_event WHERE tenant_id = 'acme' ORDER BY id", []
    ):
        history[resource_id].append(type_.rsplit("-", 1)[1])
    return history


def run_round(kind, token: str, scope: str, plan: list[tuple[str, list[str]]], tally) -> int:
    """Race the plan's requests; tally each element's 207 entry; returns the server errors."""

    def send(client: APIClient, worker: int):
        method, keys = plan[worker]
        return kind.send(client, scope, method, keys)

    server_errors = 0
    for (method, keys), response in zip(plan, race(token, send, threads=len(plan)), strict=True):
        if response.status_code >= 500:
            # Its transaction was rolled back as a whole: nothing of it to tally.
            server_errors += 1
            continue
        assert response.status_code == 207, response.content
        body = response.json()
        assert [entry["index"] for entry in body] == list(range(1, len(keys) + 1))
        for key, entry in zip(keys, body, strict=True):
            assert (method, entry["code"]) in OUTCOMES, (method, key, entry)
            tally[key][OUTCOMES[method, entry["code"]]] += 1
    return server_errors


def assert_one_story(kind, key: str, outcomes: Counter, history: list[str], *, initially, rows):
    """The key is stored once or not at all, as its events replayed from `initially` say,
    and its events are exactly the changes its 207 entries report."""
    assert rows in (0, 1), (key, rows)
    events = Counter(history)
    assert {c: events[c] for c in CHANGES} == {c: outcomes[c] for c in CHANGES}, (key, history)
    present = initially
    for change in history:
        assert present == (change != "created"), (key, history)
        present = change != "deleted"
    assert rows == int(present), (key, history, rows)
    kind.check(key, history, initially=initially)


@KINDS
def test_bulk_upserts_in_opposite_orders_store_each_element_once(tenant, make_token, kind):
    token = make_token(tenant, MANAGE)
    server_errors, stored_counts = [], []
    for round_ in range(ROUNDS):
        scope, keys = kind.prepare(tenant, round_, present=False)
        plan = [("put", window) for window in windows(keys)]
        tally: dict[str, Counter] = defaultdict(Counter)
        # The first race creates every element, the second updates them.
        errors = run_round(kind, token, scope, plan, tally)
        errors += run_round(kind, token, scope, plan, tally)
        server_errors.append(errors)
        stored, history = kind.stored(scope), event_history()
        for key in keys:
            rows = stored.get(key, 0)
            assert_one_story(
                kind,
                key,
                tally[key],
                history[kind.resource_id(scope, key)],
                initially=False,
                rows=rows,
            )
            stored_counts.append(rows)
    assert server_errors == [0] * ROUNDS, f"server errors per round: {server_errors}"
    assert stored_counts == [1] * (ROUNDS * IDS_PER_ROUND)


@KINDS
def test_bulk_upserts_and_deletes_in_opposite_orders_tell_one_story(tenant, make_token, kind):
    token = make_token(tenant, MANAGE)
    server_errors = []
    for round_ in range(ROUNDS):
        scope, keys = kind.prepare(tenant, round_, present=True)
        plan = [
            ("put" if worker % 2 == 0 else "delete", window)
            for worker, window in enumerate(windows(keys))
        ]
        tally: dict[str, Counter] = defaultdict(Counter)
        server_errors.append(run_round(kind, token, scope, plan, tally))
        stored, history = kind.stored(scope), event_history()
        for key in keys:
            assert_one_story(
                kind,
                key,
                tally[key],
                history[kind.resource_id(scope, key)],
                initially=True,
                rows=stored.get(key, 0),
            )
    assert server_errors == [0] * ROUNDS, f"server errors per round: {server_errors}"
