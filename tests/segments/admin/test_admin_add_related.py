"""The "+" next to a legal-entity picker: a pop-up creating the legal entity in the form's
tenant (the customer's legal entities, the assignment form, a group's binding), offered
only to a user who may add legal entities."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from segments.models import LegalEntity
from tenants.models import StaffTenantAccess
from tests.factories import make_customer, make_group, make_segment

pytestmark = pytest.mark.django_db


def add_link(html: str, field_id: str) -> str | None:
    found = re.search(rf'id="add_{re.escape(field_id)}"[^>]*href="([^"]+)"', html) or re.search(
        rf'href="([^"]+)"[^>]*id="add_{re.escape(field_id)}"', html
    )
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_customer_form_offers_a_new_legal_entity_in_its_tenant(su_client, tenant):
    anna = make_customer(tenant, "anna")
    html = su_client.get(f"/admin/segments/customer/{anna.pk}/change/").content.decode()
    link = add_link(html, "id_customerlegalentity_set-2-0-legal_entity")
    assert link == "/admin/segments/legalentity/add/?_to_field=id&_popup=1&tenant=acme"

    response = su_client.post(
        link, {"tenant": "acme", "external_id": "anna-gmbh", "name": "Anna GmbH", "_popup": 1}
    )
    assert response.status_code == 200
    assert "opener" in response.content.decode() or "popup_response" in response.content.decode()
    assert LegalEntity.objects.get(external_id="anna-gmbh").tenant_id == "acme"


def test_the_assignment_and_group_forms_offer_it_too(su_client, tenant):
    segment = make_segment(tenant, "spring")
    html = su_client.get(
        f"/admin/segments/customerassignment/add/?segment={segment.pk}&tenant=acme"
    ).content.decode()
    assert add_link(html, "id_legal_entity") == (
        "/admin/segments/legalentity/add/?_to_field=id&_popup=1&tenant=acme"
    )
    group = make_group(tenant, "fans")
    html = su_client.get(f"/admin/segments/group/{group.pk}/change/").content.decode()
    assert add_link(html, "id_legal_entity") == (
        "/admin/segments/legalentity/add/?_to_field=id&_popup=1&tenant=acme"
    )


def test_no_plus_for_a_user_who_may_not_add_legal_entities(tenant):
    user = get_user_model().objects.create_user("vera", "vera@example.com", None, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_customer",
                "change_customer",
                "view_customerlegalentity",
                "add_customerlegalentity",
                "change_customerlegalentity",
                "view_legalentity",
            ]
        )
    )
    StaffTenantAccess.objects.create(user=user, tenant=tenant)
    client = Client()
    client.force_login(user)
    anna = make_customer(tenant, "anna")
    html = client.get(f"/admin/segments/customer/{anna.pk}/change/").content.decode()
    assert 'id="id_customerlegalentity_set-2-0-legal_entity"' in html  # the picker is there
    assert add_link(html, "id_customerlegalentity_set-2-0-legal_entity") is None
