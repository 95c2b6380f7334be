"""Racing assignment writers on PostgreSQL: no duplicate rows, no lost update, no 500."""

from __future__ import annotations

from collections import Counter

from segments.models import CustomerAssignment, Event, ItemAssignment
from tests.concurrency import POSTGRES_RACE, THREADS, race
from tests.conftest import MANAGE
from tests.factories import assign_product, make_customer, make_product, make_segment

pytestmark = POSTGRES_RACE
BASE = "/customer-segment/acme/segments/gold"


def test_racing_creates_of_one_assignment_make_one_row(tenant, make_token):
    make_segment(tenant, "gold")
    make_customer(tenant, "c1")

    def put(client, number):
        response = client.put(f"{BASE}/customers/c1", {"mixins": {"n": number}}, format="json")
        return response.status_code

    codes = race(make_token(tenant, MANAGE), put)
    assert Counter(codes) == {201: 1, 204: THREADS - 1}
    row = CustomerAssignment.objects.get()
    assert row.version == THREADS
    assert Event.objects.count() == THREADS


def test_puts_carrying_the_same_version_have_exactly_one_winner(tenant, make_token):
    segment = make_segment(tenant, "gold")
    assign_product(segment, make_product(tenant, "p1"))

    def put(client, number):
        body = {"mixins": {"n": number}, "metadata": {"version": 1}}
        return client.put(f"{BASE}/items/PRODUCT/p1", body, format="json").status_code

    codes = race(make_token(tenant, MANAGE), put)
    assert Counter(codes) == {204: 1, 409: THREADS - 1}
    assert ItemAssignment.objects.get().version == 2
    assert Event.objects.count() == 1


def test_overlapping_bulk_upserts_all_land(tenant, make_token):
    make_segment(tenant, "gold")
    for n in range(40):
        make_product(tenant, f"p{n:02d}")

    def bulk(client, number):
        # Each writer covers 20 products, overlapping its neighbours'.
        body = [{"id": f"p{(number * 5 + k) % 40:02d}"} for k in range(20)]
        response = client.put(f"{BASE}/items/product/bulk", body, format="json")
        return response.status_code, {entry["code"] for entry in response.json()}

    results = race(make_token(tenant, MANAGE), bulk)
    assert all(status == 207 and codes <= {201, 204} for status, codes in results)
    assert ItemAssignment.objects.count() == 40
    assert Event.objects.count() == THREADS * 20
