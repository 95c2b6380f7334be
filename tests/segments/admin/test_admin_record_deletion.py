"""Deleting referenced records in the admin takes their assignments along, with events."""

from __future__ import annotations

import pytest

from segments.choices import EventType
from segments.models import Customer, CustomerAssignment, Event, ItemAssignment, Product
from segments.services.records import records_delete
from tests.factories import (
    assign_category,
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_legal_entity,
    make_product,
    make_segment,
)


def events(type_: EventType) -> list[tuple[str, dict]]:
    return [(e.resource_id, e.payload) for e in Event.objects.filter(type=type_).order_by("id")]


@pytest.mark.django_db
class TestThroughTheAdmin:
    def test_deleting_a_customer_records_its_assignments_deleted(self, tenant, su_client):
        gold, silver = make_segment(tenant, "gold"), make_segment(tenant, "silver")
        company = make_legal_entity(tenant, "le1")
        customer = make_customer(tenant, "c1", legal_entities=[company])
        assign_customer(gold, customer)
        assign_customer(silver, customer, company)
        response = su_client.post(
            f"/admin/segments/customer/{customer.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 302
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not CustomerAssignment.objects.exists()
        deleted = events(EventType.CUSTOMER_ASSIGNMENT_DELETED)
        assert [resource for resource, _ in deleted] == ["gold/c1", "silver/c1/le1"]
        assert deleted[1][1]["legalEntity"] == {"id": "le1"}
        assert deleted[1][1]["segmentId"] == "silver"

    def test_the_delete_selected_action_on_products(self, tenant, other_tenant, su_client):
        gold = make_segment(tenant, "gold")
        kept = make_product(tenant, "p-kept")
        doomed = [make_product(tenant, f"p{n}") for n in range(3)]
        for product in [kept, *doomed]:
            assign_product(gold, product)
        foreign = make_product(other_tenant, "p-foreign")
        assign_product(make_segment(other_tenant, "theirs"), foreign)
        response = su_client.post(
            "/admin/segments/product/",
            {
                "action": "delete_selected",
                "_selected_action": [p.pk for p in [*doomed, foreign]],
                "post": "yes",
            },
        )
        assert response.status_code == 302
        assert set(Product.objects.values_list("external_id", flat=True)) == {"p-kept"}
        assert ItemAssignment.objects.count() == 1
        deleted = events(EventType.ITEM_ASSIGNMENT_DELETED)
        assert sorted(resource for resource, _ in deleted) == [
            "gold/PRODUCT/p0",
            "gold/PRODUCT/p1",
            "gold/PRODUCT/p2",
            "theirs/PRODUCT/p-foreign",
        ]
        assert {e.tenant_id for e in Event.objects.all()} == {"acme", "globex"}


@pytest.mark.django_db
class TestRecordsDelete:
    def test_a_legal_entity_takes_only_its_b2b_assignments(self, tenant):
        gold = make_segment(tenant, "gold")
        company = make_legal_entity(tenant, "le1")
        customer = make_customer(tenant, "c1", legal_entities=[company])
        assign_customer(gold, customer)
        assign_customer(gold, customer, company)
        assert records_delete(tenant=tenant, rows=company.__class__.objects.all()) == 1
        assert list(CustomerAssignment.objects.values_list("legal_entity", flat=True)) == [None]
        assert [r for r, _ in events(EventType.CUSTOMER_ASSIGNMENT_DELETED)] == ["gold/c1/le1"]

    def test_a_category_takes_its_assignments(self, tenant):
        gold = make_segment(tenant, "gold")
        category = make_category(tenant, "cat1", code="TOOLS")
        assign_category(gold, category)
        assert records_delete(tenant=tenant, rows=category.__class__.objects.all()) == 1
        assert not ItemAssignment.objects.exists()
        [(resource, payload)] = events(EventType.ITEM_ASSIGNMENT_DELETED)
        assert resource == "gold/CATEGORY/cat1"
        assert payload["item"] == {"id": "cat1", "code": "TOOLS"}

    def test_rows_of_another_tenant_are_left_alone(self, tenant, other_tenant):
        theirs = make_customer(other_tenant, "c1")
        assert records_delete(tenant=tenant, rows=Customer.objects.all()) == 0
        assert Customer.objects.filter(pk=theirs.pk).exists()
