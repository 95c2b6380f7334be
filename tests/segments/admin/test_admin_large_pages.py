"""No admin page renders more than a page of related rows: a group's members, a customer's
legal entities and a product's categories show the first 50 and say how many there are;
deleting a tenant shows counts."""

from __future__ import annotations

import pytest

from segments.models import Customer, GroupMember
from tests.factories import make_group
from tests.segments.admin.test_admin_groups import form_data

pytestmark = pytest.mark.django_db


def test_a_large_groups_page_shows_the_first_members_and_their_number(su_client, tenant):
    group = make_group(tenant, "big", name={"en": "Big"})
    Customer.objects.bulk_create(
        Customer(tenant=tenant, external_id=f"c{n:03d}") for n in range(120)
    )
    GroupMember.objects.bulk_create(
        GroupMember(tenant=tenant, group=group, customer=c)
        for c in Customer.objects.filter(tenant=tenant)
    )

    response = su_client.get(f"/admin/segments/group/{group.pk}/change/")

    html = response.content.decode()
    assert "Members of this group (the first 50 of 120)" in html
    [members] = [
        f
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "groupmember_set"
    ]
    shown = [form.instance.customer.external_id for form in members.formset.forms]
    assert shown == [f"c{n:03d}" for n in range(50)]

    # Saving the page (the 50 shown, one ticked for deletion) removes that one only.
    data = {
        **form_data(name_en="Big"),
        "groupmember_set-TOTAL_FORMS": "50",
        "groupmember_set-INITIAL_FORMS": "50",
        "groupmember_set-MIN_NUM_FORMS": "0",
        "groupmember_set-MAX_NUM_FORMS": "1000",
    }
    for n, form in enumerate(members.formset.forms):
        data[f"groupmember_set-{n}-id"] = str(form.instance.pk)
        data[f"groupmember_set-{n}-tenant"] = "acme"
        data[f"groupmember_set-{n}-group"] = str(group.pk)
    data["groupmember_set-0-DELETE"] = "on"
    saved = su_client.post(f"/admin/segments/group/{group.pk}/change/", data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert GroupMember.objects.filter(group=group).count() == 119
    assert not GroupMember.objects.filter(group=group, customer__external_id="c000").exists()


def test_the_tenant_delete_page_shows_counts_not_rows(su_client, tenant):
    group = make_group(tenant, "big")
    Customer.objects.bulk_create(
        Customer(tenant=tenant, external_id=f"c{n:03d}") for n in range(120)
    )
    GroupMember.objects.bulk_create(
        GroupMember(tenant=tenant, group=group, customer=c)
        for c in Customer.objects.filter(tenant=tenant)
    )
    response = su_client.get("/admin/tenants/tenant/acme/delete/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "c000" not in html and "c119" not in html
    assert "120" in html
