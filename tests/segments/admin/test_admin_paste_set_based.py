"""A paste writes set-based on PostgreSQL (one statement with its events) and through the
bulk pipeline elsewhere: the same rows, the same event payloads, the same rule follow-up."""

from __future__ import annotations

import pytest

from segments.choices import AssignmentType, EventType
from segments.models import CustomerAssignment, Event, RuleExclusion
from segments.services.customer_assignments import customer_assignment_delete
from segments.services.rules import RuleInput, rule_upsert
from segments.services.segment_workspace import segment_customers_add, segment_customers_remove
from segmentservice.actor import acting_as
from segmentservice.formats import format_instant
from tests.factories import assign_customer, make_customer, make_legal_entity, make_segment

pytestmark = pytest.mark.django_db


def test_added_members_get_the_created_events_the_api_records(tenant):
    spring = make_segment(tenant, "spring")
    for n in range(3):
        make_customer(tenant, f"c{n}")
    assign_customer(spring, make_customer(tenant, "old"))

    with acting_as("admin:mia"):
        added = segment_customers_add(
            tenant=tenant, segment_id="spring", customer_ids=["c2", "c0", "c1", "c0", "old"]
        )

    rows = {
        row.customer.external_id: row
        for row in CustomerAssignment.objects.filter(segment=spring).select_related("customer")
    }
    assert set(rows) == {"c0", "c1", "c2", "old"}
    assert added in (3, 4)  # the pipeline (not PostgreSQL) rewrites "old" as a PUT would
    events = Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_CREATED).order_by("id")
    assert [e.resource_id for e in events] == ["spring/c0", "spring/c1", "spring/c2"] or [
        e.resource_id for e in events
    ] == ["spring/c2", "spring/c0", "spring/c1"]
    for event in events:
        row = rows[event.resource_id.split("/")[1]]
        assert row.assignment_type == AssignmentType.MANUAL and row.version == 1
        assert event.actor == "admin:mia"
        assert event.payload == {
            "segmentId": "spring",
            "customer": {"id": row.customer.external_id},
            "assignmentType": "MANUAL",
            "metadata": {
                "createdAt": format_instant(row.created_at),
                "modifiedAt": format_instant(row.modified_at),
                "version": 1,
            },
        }


def test_removed_members_get_their_deleted_events_and_b2b_rows_stay(tenant):
    spring = make_segment(tenant, "spring")
    company = make_legal_entity(tenant, "le")
    anna = make_customer(tenant, "anna", legal_entities=[company])
    assign_customer(spring, anna)
    assign_customer(spring, anna, company)
    assign_customer(spring, make_customer(tenant, "bert"))

    removed = segment_customers_remove(
        tenant=tenant, segment_id="spring", keys=[("anna", None), ("nobody", None)]
    )

    assert removed == 1
    left = CustomerAssignment.objects.filter(segment=spring)
    assert sorted((a.customer.external_id, a.legal_entity_id is None) for a in left) == [
        ("anna", False),
        ("bert", True),
    ]
    [event] = Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_DELETED)
    assert event.resource_id == "spring/anna"
    assert event.payload["customer"] == {"id": "anna"} and "legalEntity" not in event.payload


def test_a_pasted_customer_is_no_longer_excluded_and_dependent_rules_follow(tenant):
    make_customer(tenant, "ada", attributes={"tier": "gold"})
    make_customer(tenant, "bob", attributes={"tier": "silver"})
    make_segment(tenant, "gold")
    make_segment(tenant, "fans")
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )
    rule_upsert(tenant=tenant, segment_id="fans", data=RuleInput("segments.id:gold", "B2C", True))
    customer_assignment_delete(
        tenant=tenant, segment_id="gold", customer_id="ada", legal_entity_id=None
    )
    assert RuleExclusion.objects.count() == 1

    segment_customers_add(tenant=tenant, segment_id="gold", customer_ids=["ada", "bob"])

    assert not RuleExclusion.objects.exists()
    fans = set(
        CustomerAssignment.objects.filter(segment__external_id="fans").values_list(
            "customer__external_id", flat=True
        )
    )
    assert fans == {"ada", "bob"}

    segment_customers_remove(tenant=tenant, segment_id="gold", keys=[("bob", None)])
    fans = set(
        CustomerAssignment.objects.filter(segment__external_id="fans").values_list(
            "customer__external_id", flat=True
        )
    )
    assert fans == {"ada"}


def test_removing_a_rule_made_member_excludes_it(tenant):
    make_customer(tenant, "ada", attributes={"tier": "gold"})
    make_segment(tenant, "gold")
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )

    assert segment_customers_remove(tenant=tenant, segment_id="gold", keys=[("ada", None)]) == 1

    assert RuleExclusion.objects.filter(customer__external_id="ada").count() == 1
