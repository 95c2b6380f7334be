"""A forced segment delete records a deleted event for every assignment it takes along."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.choices import EventType
from segments.models import CustomerAssignment, Event, ItemAssignment
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
    stored_metadata,
)

BASE = "/customer-segment/acme/segments"
MIXED = {
    "mixins": {"loyalty": {"tier": 2, "tags": ["a", None]}},
    "metadata_mixins": {"loyalty": "https://schemas.example/loyalty.json"},
}


def shown(row, extra: dict) -> dict:
    """`mixins` and `metadata` as an event payload shows them (mixins only when set)."""
    metadata = stored_metadata(row)
    if extra:
        metadata["mixins"] = extra["metadata_mixins"]
        return {"mixins": extra["mixins"], "metadata": metadata}
    return {"metadata": metadata}


def fill(tenant, segment, customers: int, products: int, categories: int) -> dict[str, dict]:
    """Assignments of `segment`; returns the deleted event each should get, by resource id."""
    company = make_legal_entity(tenant)
    expected = {}
    for i in range(customers):
        b2b = i % 10 == 0
        customer = make_customer(tenant, legal_entities=[company] if b2b else [])
        extra = MIXED if i % 7 == 3 else {}
        row = assign_customer(segment, customer, company if b2b else None, **extra)
        payload = {"segmentId": segment.external_id, "customer": {"id": customer.external_id}}
        resource = f"{segment.external_id}/{customer.external_id}"
        if b2b:
            payload["legalEntity"] = {"id": company.external_id}
            resource += f"/{company.external_id}"
        payload |= {"assignmentType": "MANUAL", **shown(row, extra)}
        expected[resource] = payload
    for i in range(products + categories):
        item = make_product(tenant) if i < products else make_category(tenant)
        kind = "PRODUCT" if i < products else "CATEGORY"
        extra = MIXED if i % 2 else {}
        row = (assign_product if i < products else assign_category)(segment, item, **extra)
        expected[f"{segment.external_id}/{kind}/{item.external_id}"] = {
            "segmentId": segment.external_id,
            "item": {"id": item.external_id, "code": item.code},
            "type": kind,
            **shown(row, extra),
        }
    return expected


def deleted_assignment_events(tenant) -> dict[str, dict]:
    return {
        e.resource_id: e.payload
        for e in Event.objects.filter(
            tenant=tenant,
            type__in=[EventType.CUSTOMER_ASSIGNMENT_DELETED, EventType.ITEM_ASSIGNMENT_DELETED],
        )
    }


@pytest.mark.django_db
class TestForceDeleteEvents:
    def test_one_deleted_event_per_assignment_removed_then_the_segments(
        self, manage_client, tenant
    ):
        gold = make_segment(tenant, "gold")
        kept = make_segment(tenant, "kept")
        expected = fill(tenant, gold, customers=280, products=5, categories=2)
        assign_customer(kept, make_customer(tenant))
        Event.objects.all().delete()
        removed = (
            CustomerAssignment.objects.filter(segment=gold).count()
            + ItemAssignment.objects.filter(segment=gold).count()
        )

        response = manage_client.delete(f"{BASE}/gold?forceDelete=true")

        assert response.status_code == 204
        assert removed == 287
        events = list(Event.objects.filter(tenant=tenant).order_by("id"))
        assert Counter(e.type for e in events) == {
            EventType.CUSTOMER_ASSIGNMENT_DELETED: 280,
            EventType.ITEM_ASSIGNMENT_DELETED: 7,
            EventType.SEGMENT_DELETED: 1,
        }
        assert deleted_assignment_events(tenant) == expected
        assert (events[-1].type, events[-1].resource_id) == (EventType.SEGMENT_DELETED, "gold")
        assert CustomerAssignment.objects.filter(segment=kept).count() == 1

    def test_bulk_force_delete_records_every_segments_assignments(self, manage_client, tenant):
        expected = {}
        for segment_id in ("a", "b"):
            expected |= fill(tenant, make_segment(tenant, segment_id), 3, 1, 1)
        Event.objects.all().delete()

        response = manage_client.delete(f"{BASE}/bulk?forceDelete=true", ["a", "b"], format="json")

        assert [r["code"] for r in response.json()] == [204, 204]
        assert deleted_assignment_events(tenant) == expected
        assert Event.objects.filter(type=EventType.SEGMENT_DELETED).count() == 2

    def test_a_segment_without_assignments_reads_no_assignment_table(self, manage_client, tenant):
        make_segment(tenant, "empty")
        with CaptureQueriesContext(connection) as queries:
            response = manage_client.delete(f"{BASE}/empty")
        assert response.status_code == 204
        tables = [m._meta.db_table for m in (CustomerAssignment, ItemAssignment)]
        # The segment's own read asks whether it has assignments; nothing else looks.
        statements = [
            q["sql"]
            for q in queries.captured_queries
            if not q["sql"].startswith('SELECT "segments_segment"')
        ]
        assert not [sql for sql in statements for table in tables if f'"{table}"' in sql]

    def test_the_number_of_queries_barely_grows_with_the_assignments(self, manage_client, tenant):
        make_segment(tenant, "first")
        manage_client.delete(f"{BASE}/first")  # the tenant is remembered from here on
        counts = []
        for segment_id, n in (("small", 1), ("large", 300)):
            fill(tenant, make_segment(tenant, segment_id), customers=n, products=n, categories=1)
            with CaptureQueriesContext(connection) as queries:
                response = manage_client.delete(f"{BASE}/{segment_id}?forceDelete=true")
            assert response.status_code == 204
            counts.append(len(queries))
        # One read and one INSERT per kind of assignment (SQLite splits an INSERT at its
        # limit of bound variables, about 140 events each).
        if connection.vendor == "postgresql":
            assert counts[1] == counts[0]
        else:
            assert counts[1] <= counts[0] + 6
        assert Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_DELETED).count() == 301

    def test_group_assignments_get_the_payload_a_single_delete_records(self, manage_client, tenant):
        segment = make_segment(tenant, "grouped")
        expected = {}
        for i in range(5):
            name = {"en": f"Group {i}"} if i % 2 else {}
            group = make_group(tenant, f"g{i}", name=name)
            extra = MIXED if i % 3 == 1 else {}
            row = assign_group(segment, group, **extra)
            expected[f"grouped/groups/g{i}"] = {
                "segmentId": "grouped",
                "group": {"id": f"g{i}", "name": name},
                **shown(row, extra),
            }
        Event.objects.all().delete()

        response = manage_client.delete(f"{BASE}/grouped?forceDelete=true")

        assert response.status_code == 204
        recorded = {
            e.resource_id: e.payload
            for e in Event.objects.filter(type=EventType.GROUP_ASSIGNMENT_DELETED)
        }
        assert recorded == expected
        # The single delete's payload, for the same kind of row, is the same shape.
        again = assign_group(make_segment(tenant, "single"), make_group(tenant, "solo"))
        shape = {"segmentId": "single", "group": {"id": "solo", "name": {}}, **shown(again, {})}
        assert manage_client.delete(f"{BASE}/single/groups/solo").status_code == 204
        assert Event.objects.get(resource_id="single/groups/solo").payload == shape
