"""A customer's page explains: each listed segment links to why the customer is in it, and
a picker asks why they are in, or not in, any segment of the tenant."""

from __future__ import annotations

import pytest

from segments.choices import AssignmentType
from segments.services.rules import RuleInput, rule_upsert
from tests.factories import (
    assign_customer,
    assign_group,
    make_customer,
    make_group,
    make_legal_entity,
    make_segment,
)

pytestmark = pytest.mark.django_db

EXPLAIN = "/admin/segments/segmentrule/explain/"


def test_each_listed_segment_links_to_why(su_client, tenant):
    company = make_legal_entity(tenant, "le-1", name="Schmidt GmbH")
    anna = make_customer(tenant, "anna", first_name="Anna", legal_entities=[company])
    spring, gold, fans = (make_segment(tenant, name) for name in ("spring", "gold", "fans"))
    assign_customer(spring, anna, company)
    assign_customer(gold, anna, assignment_type=AssignmentType.AUTOMATIC)
    assign_group(fans, make_group(tenant, "g", members=[anna]))

    html = su_client.get(f"/admin/segments/customer/{anna.pk}/change/").content.decode()

    assert (
        f'<a class="segment-why" href="{EXPLAIN}?segment={spring.pk}&amp;customer=anna'
        '&amp;legal_entity=le-1">why?</a>' in html
    )
    assert f'href="{EXPLAIN}?segment={gold.pk}&amp;customer=anna">why?' in html
    assert f'href="{EXPLAIN}?segment={fans.pk}&amp;customer=anna">why?' in html


def test_the_picker_asks_about_any_segment_of_the_tenant(su_client, tenant):
    company = make_legal_entity(tenant, "le-1", name="Schmidt GmbH")
    anna = make_customer(
        tenant, "anna", first_name="Anna", attributes={"tier": "silver"}, legal_entities=[company]
    )
    make_segment(tenant, "gold")
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )

    html = su_client.get(f"/admin/segments/customer/{anna.pk}/change/").content.decode()

    assert f'<form method="get" action="{EXPLAIN}" id="customer-why-form">' in html
    assert '<input type="hidden" name="customer" value="anna">' in html
    assert 'data-ajax--url="/admin/autocomplete/?tenant=acme"' in html
    assert 'data-model-name="customerassignment" data-field-name="segment"' in html
    assert '<option value="le-1">Schmidt GmbH (le-1)</option>' in html
    assert "admin/js/autocomplete.js" in html


def test_why_not_in_names_the_failing_condition(su_client, tenant):
    make_customer(
        tenant, "anna", first_name="Anna", last_name="Schmidt", attributes={"tier": "silver"}
    )
    gold = make_segment(tenant, "gold", name={"en": "Gold"})
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )

    response = su_client.get(EXPLAIN, {"segment": gold.pk, "customer": "anna", "legal_entity": ""})

    assert response.status_code == 200
    assert response.context["title"] == 'Why is Anna Schmidt (anna) in, or not in, "Gold" (gold)?'
    html = response.content.decode()
    assert "Not a member" in html and "attributes.tier:gold" in html and "fails" in html


@pytest.mark.parametrize("segment", ["", "x", "999999"])
def test_no_segment_chosen_is_a_404_not_a_500(su_client, tenant, segment):
    make_customer(tenant, "anna")
    assert su_client.get(EXPLAIN, {"segment": segment, "customer": "anna"}).status_code == 404


def test_another_tenants_segment_is_not_explained(staff_client, other_tenant):
    theirs = make_segment(other_tenant, "theirs")
    assert staff_client.get(EXPLAIN, {"segment": theirs.pk, "customer": "x"}).status_code == 404
