"""Customer and item assignments in the admin: reached from a segment, written by the services."""

from __future__ import annotations

import pytest

from segments.choices import AssignmentType, EventType, ItemType
from segments.models import CustomerAssignment, Event, ItemAssignment
from tests.conftest import READ
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

CUSTOMERS = "/admin/segments/customerassignment/"
ITEMS = "/admin/segments/itemassignment/"


def customer_form(segment, customer, legal_entity=None, **extra) -> dict:
    return {
        "segment": segment.pk,
        "customer": customer.pk,
        "legal_entity": legal_entity.pk if legal_entity else "",
        "mixins": "",
        "metadata_mixins": "",
        "version": "",
        **extra,
    }


def item_form(segment, item_type, product=None, category=None, **extra) -> dict:
    return {
        "segment": segment.pk,
        "type": item_type,
        "product": product.pk if product else "",
        "category": category.pk if category else "",
        "mixins": "",
        "metadata_mixins": "",
        "version": "",
        **extra,
    }


@pytest.mark.django_db
class TestCustomerAssignments:
    def test_list_filtered_by_segment(self, su_client, tenant):
        gold, silver = make_segment(tenant, "gold"), make_segment(tenant, "silver")
        ada = make_customer(tenant, "ada")
        assign_customer(gold, ada)
        assign_customer(silver, make_customer(tenant, "bob"))

        response = su_client.get(CUSTOMERS, {"segment": gold.pk})

        assert [row.customer.external_id for row in response.context["cl"].result_list] == ["ada"]
        assert "gold" in response.content.decode()  # the chosen segment is named in the filter

    def test_add_form_from_a_segment_is_bound_to_its_segment_and_tenant(
        self, su_client, tenant, other_tenant
    ):
        gold = make_segment(tenant, "gold")

        response = su_client.get(f"{CUSTOMERS}add/", {"segment": gold.pk})

        form = response.context["adminform"].form
        assert form["segment"].value() == str(gold.pk)
        assert form["tenant"].value() == "acme"
        autocomplete = form.fields["customer"].widget.widget  # inside the related-field wrapper
        assert autocomplete.get_url() == "/admin/autocomplete/?tenant=acme"

    def test_adding_is_manual_recorded_and_visible_through_the_api(
        self, su_client, tenant, make_client
    ):
        gold = make_segment(tenant, "gold")
        ada = make_customer(tenant, "ada", first_name="Ada", last_name="Lovelace")

        response = su_client.post(
            f"{CUSTOMERS}add/?segment={gold.pk}",
            customer_form(gold, ada, mixins='{"source": "admin"}'),
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        row = CustomerAssignment.objects.get()
        assert (row.assignment_type, row.mixins, row.version) == (
            AssignmentType.MANUAL,
            {"source": "admin"},
            1,
        )
        assert Event.objects.filter(
            type=EventType.CUSTOMER_ASSIGNMENT_CREATED, resource_id="gold/ada"
        ).exists()
        body = make_client(tenant, READ).get("/customer-segment/acme/segments/gold/customers/ada")
        assert body.status_code == 200
        assert body.json()["assignmentType"] == "MANUAL"
        assert body.json()["mixins"] == {"source": "admin"}

    def test_b2b_for_a_legal_entity_the_customer_is_not_in_is_refused(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        ada = make_customer(tenant, "ada")
        company = make_legal_entity(tenant, "le1")

        response = su_client.post(
            f"{CUSTOMERS}add/?segment={gold.pk}", customer_form(gold, ada, company)
        )

        assert response.status_code == 200
        assert response.context["adminform"].form.non_field_errors() == [
            "The customer with id ada does not belong to the legal entity with id le1."
        ]
        assert not CustomerAssignment.objects.exists()

    def test_b2b_for_a_member(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        company = make_legal_entity(tenant, "le1")
        ada = make_customer(tenant, "ada", legal_entities=[company])

        su_client.post(f"{CUSTOMERS}add/?segment={gold.pk}", customer_form(gold, ada, company))

        assert CustomerAssignment.objects.get().legal_entity == company

    def test_a_customer_of_another_tenant_cannot_be_chosen(self, su_client, tenant, other_tenant):
        gold = make_segment(tenant, "gold")
        stranger = make_customer(other_tenant, "stranger")

        response = su_client.post(
            f"{CUSTOMERS}add/?segment={gold.pk}", customer_form(gold, stranger)
        )

        assert "customer" in response.context["adminform"].form.errors
        assert not CustomerAssignment.objects.exists()

    def test_editing_changes_only_mixins_with_a_new_version(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        row = assign_customer(gold, make_customer(tenant, "ada"))
        other = make_customer(tenant, "bob")

        response = su_client.post(
            f"{CUSTOMERS}{row.pk}/change/",
            {"customer": other.pk, "mixins": '{"a": 1}', "metadata_mixins": "", "version": "1"},
        )

        assert response.status_code == 302
        row.refresh_from_db()
        assert (row.customer.external_id, row.mixins, row.version) == ("ada", {"a": 1}, 2)

    def test_deleting_goes_through_the_service(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        row = assign_customer(gold, make_customer(tenant, "ada"))

        response = su_client.post(f"{CUSTOMERS}{row.pk}/delete/", {"post": "yes"})

        assert response.status_code == 302
        assert not CustomerAssignment.objects.exists()
        assert Event.objects.filter(
            type=EventType.CUSTOMER_ASSIGNMENT_DELETED, resource_id="gold/ada"
        ).exists()

    def test_remove_selected_action(self, su_client, tenant):
        gold, silver = make_segment(tenant, "gold"), make_segment(tenant, "silver")
        rows = [assign_customer(s, make_customer(tenant)) for s in (gold, silver, gold)]
        keep = assign_customer(silver, make_customer(tenant))

        su_client.post(
            CUSTOMERS,
            {"action": "remove_selected", "_selected_action": [r.pk for r in rows]},
        )

        assert list(CustomerAssignment.objects.all()) == [keep]
        assert Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_DELETED).count() == 3


@pytest.mark.django_db
class TestItemAssignments:
    def test_add_form_takes_the_type_from_the_link(self, su_client, tenant):
        gold = make_segment(tenant, "gold")

        response = su_client.get(f"{ITEMS}add/", {"segment": gold.pk, "type": "CATEGORY"})

        form = response.context["adminform"].form
        assert (form["segment"].value(), form["type"].value()) == (str(gold.pk), "CATEGORY")

    def test_assigning_a_category(self, su_client, tenant, make_client):
        gold = make_segment(tenant, "gold")
        tools = make_category(tenant, "tools", code="TOOLS")

        response = su_client.post(
            f"{ITEMS}add/?segment={gold.pk}", item_form(gold, "CATEGORY", category=tools)
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        row = ItemAssignment.objects.get()
        assert (row.type, row.category) == (ItemType.CATEGORY, tools)
        api = make_client(tenant, READ)
        body = api.get("/customer-segment/acme/segments/gold/items/category/tools").json()
        assert (body["type"], body["item"]["id"], body["item"]["code"]) == (
            "CATEGORY",
            "tools",
            "TOOLS",
        )

    @pytest.mark.parametrize(
        ("item_type", "give", "field", "message"),
        [
            ("PRODUCT", "nothing", "product", "Pick the product to assign."),
            ("CATEGORY", "nothing", "category", "Pick the category to assign."),
            ("PRODUCT", "both", "category", "A product assignment names no category."),
            ("CATEGORY", "both", "product", "A category assignment names no product."),
        ],
    )
    def test_the_item_must_match_the_type(self, su_client, tenant, item_type, give, field, message):
        gold = make_segment(tenant, "gold")
        items = {}
        if give == "both":
            items = {"product": make_product(tenant), "category": make_category(tenant)}

        response = su_client.post(
            f"{ITEMS}add/?segment={gold.pk}", item_form(gold, item_type, **items)
        )

        assert response.context["adminform"].form.errors[field] == [message]
        assert not ItemAssignment.objects.exists()

    def test_an_item_assigned_twice_gets_a_new_version(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        product = make_product(tenant)
        assign_product(gold, product)

        su_client.post(
            f"{ITEMS}add/?segment={gold.pk}", item_form(gold, "PRODUCT", product=product)
        )

        assert ItemAssignment.objects.get().version == 2

    def test_deleting_and_removing(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        first = assign_category(gold, make_category(tenant))
        second = assign_product(gold, make_product(tenant))

        su_client.post(f"{ITEMS}{first.pk}/delete/", {"post": "yes"})
        su_client.post(ITEMS, {"action": "remove_selected", "_selected_action": [second.pk]})

        assert not ItemAssignment.objects.exists()
        assert Event.objects.filter(type=EventType.ITEM_ASSIGNMENT_DELETED).count() == 2

    def test_product_and_category_lists_link_to_their_segments(self, su_client, tenant):
        gold = make_segment(tenant, "gold")
        product = make_product(tenant)
        assign_product(gold, product)

        response = su_client.get(ITEMS, {"product": product.pk})

        assert [row.segment_id for row in response.context["cl"].result_list] == [gold.pk]
