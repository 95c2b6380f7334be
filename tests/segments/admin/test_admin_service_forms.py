"""Admin forms that save through the services write in `save_model`, never while validating."""

from __future__ import annotations

import pytest

from segments.models import CustomerAssignment, Event, Segment
from tests.factories import make_customer, make_segment
from tests.segments.admin.test_admin_assignments import CUSTOMERS, customer_form
from tests.segments.admin.test_admin_segments import ADD, form_data


def bound_form(response, data):
    """The admin's own form class (bound to the request's tenant), bound to `data`."""
    return type(response.context["adminform"].form)(data=data)


@pytest.mark.django_db
def test_validating_a_segment_form_writes_nothing(su_client, tenant):
    form = bound_form(su_client.get(ADD, {"tenant": "acme"}), form_data(external_id="gold"))

    assert form.is_valid(), form.errors
    assert not Segment.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_validating_an_assignment_form_writes_nothing(su_client, tenant):
    gold = make_segment(tenant, "gold")
    ada = make_customer(tenant, "ada")
    page = su_client.get(f"{CUSTOMERS}add/", {"segment": gold.pk})

    form = bound_form(page, customer_form(gold, ada))

    assert form.is_valid(), form.errors
    assert not CustomerAssignment.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_refusal_shows_the_form_again_and_keeps_nothing(su_client, tenant):
    make_segment(tenant, "gold")
    events = Event.objects.count()

    response = su_client.post(f"{ADD}?tenant=acme", form_data(external_id="gold", name_en="Mine"))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == ["The resource already exists."]
    assert response.context["adminform"].form["name_en"].value() == "Mine"
    assert list(Segment.objects.values_list("external_id", flat=True)) == ["gold"]
    assert Event.objects.count() == events
