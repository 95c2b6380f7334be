"""The admin of directory groups: names per language, members, who it holds, deletion."""

from __future__ import annotations

import pytest

from segments.choices import EventType
from segments.models import Event, Group, GroupAssignment, GroupMember
from tests.factories import (
    assign_group,
    make_customer,
    make_group,
    make_legal_entity,
    make_segment,
)
from tests.segments.admin.test_admin_scoping import inline_management

GROUPS = "/admin/segments/group/"


def form_data(**fields) -> dict:
    return {
        "user_type": "CUSTOMER",
        "legal_entity": "",
        "name_en": "Fans",
        "name_de": "",
        "name_fr": "",
        **inline_management("groupmember_set", "groupmember_set-2"),
        **fields,
    }


@pytest.mark.django_db
class TestGroupAdmin:
    def test_adds_a_group_with_names_members_and_a_legal_entity(self, su_client, tenant):
        ada = make_customer(tenant, "ada")
        company = make_legal_entity(tenant, "le1")
        response = su_client.post(
            f"{GROUPS}add/?tenant=acme",
            form_data(
                external_id="fans",
                name_de="Anhänger",
                legal_entity=company.pk,
                **{
                    "groupmember_set-2-TOTAL_FORMS": "1",
                    "groupmember_set-2-0-customer": ada.pk,
                },
            ),
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        group = Group.objects.get()
        assert (group.tenant_id, group.name, group.user_type, group.legal_entity) == (
            "acme",
            {"en": "Fans", "de": "Anhänger"},
            "CUSTOMER",
            company,
        )
        assert list(GroupMember.objects.values_list("customer__external_id", flat=True)) == ["ada"]

    def test_a_member_of_another_tenant_is_refused(self, su_client, tenant, other_tenant):
        group = make_group(tenant, "fans")
        foreign = make_customer(other_tenant, "x")
        response = su_client.post(
            f"{GROUPS}{group.pk}/change/",
            form_data(
                **{"groupmember_set-2-TOTAL_FORMS": "1", "groupmember_set-2-0-customer": foreign.pk}
            ),
        )
        assert response.status_code == 200
        assert not GroupMember.objects.exists()

    def test_the_list_counts_members_and_segments(self, su_client, tenant):
        group = make_group(tenant, "fans", name={"en": "Fans"}, members=[make_customer(tenant)])
        for _ in range(2):
            assign_group(make_segment(tenant), group)
        response = su_client.get(GROUPS)
        row = next(r for r in response.context["cl"].result_list if r.external_id == "fans")
        assert (row.member_count, row.segment_count) == (1, 2)
        assert "Fans" in response.content.decode()

    def test_making_a_group_employee_takes_it_off_its_segments_with_events(self, su_client, tenant):
        group = make_group(tenant, "fans", name={"en": "Fans"})
        assign_group(make_segment(tenant, "seg1"), group)
        response = su_client.post(f"{GROUPS}{group.pk}/change/", form_data(user_type="EMPLOYEE"))
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert not GroupAssignment.objects.exists()
        event = Event.objects.get()
        assert (event.type, event.resource_id, event.actor) == (
            EventType.GROUP_ASSIGNMENT_DELETED,
            "seg1/groups/fans",
            "admin:root",
        )

    def test_deleting_a_group_takes_its_assignments_with_events(self, su_client, tenant):
        group = make_group(tenant, "fans")
        assign_group(make_segment(tenant, "seg1"), group)
        response = su_client.post(f"{GROUPS}{group.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not Group.objects.exists()
        assert list(Event.objects.values_list("type", "resource_id")) == [
            (EventType.GROUP_ASSIGNMENT_DELETED, "seg1/groups/fans")
        ]

    def test_deleting_a_legal_entity_takes_its_bound_groups_assignments_with_events(
        self, su_client, tenant
    ):
        company = make_legal_entity(tenant, "le1")
        bound = make_group(tenant, "bound", legal_entity=company)
        free = make_group(tenant, "free")
        segment = make_segment(tenant, "seg1")
        assign_group(segment, bound)
        assign_group(segment, free)
        response = su_client.post(
            f"/admin/segments/legalentity/{company.pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 302
        assert list(Group.objects.values_list("external_id", flat=True)) == ["free"]
        assert list(GroupAssignment.objects.values_list("group__external_id", flat=True)) == [
            "free"
        ]
        assert list(Event.objects.values_list("type", "resource_id")) == [
            (EventType.GROUP_ASSIGNMENT_DELETED, "seg1/groups/bound")
        ]
