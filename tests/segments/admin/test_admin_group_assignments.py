"""Groups in segments, from the admin: assign a directory group to a segment (with a "+"
that creates the group inline), take it off, one at a time or many; every write goes
through the group assignment service, so the REST API, the events and the members page
agree."""

from __future__ import annotations

import pytest

from segments.choices import EventType, GroupUserType
from segments.models import Event, Group, GroupAssignment, Segment
from tenants.choices import Scope
from tenants.roles import merchandiser_group_sync
from tests.factories import (
    assign_group,
    make_customer,
    make_group,
    make_legal_entity,
    make_segment,
)
from tests.querycounts import assert_same_queries

pytestmark = pytest.mark.django_db

ADMIN = "/admin/segments/groupassignment"
API = "/customer-segment/acme/segments"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.fixture
def spring(tenant) -> Segment:
    return make_segment(tenant, "spring", name={"en": "Spring VIP"})


@pytest.fixture
def api(tenant, make_client):
    return make_client(tenant, Scope.SEGMENT_READ.value, Scope.SEGMENT_MANAGE.value)


def add(su_client, segment: Segment, group: Group, **extra):
    return su_client.post(
        f"{ADMIN}/add/?segment={segment.pk}&tenant=acme",
        {
            "segment": segment.pk,
            "group": group.pk,
            "mixins": "",
            "metadata_mixins": "",
            "_save": 1,
            **extra,
        },
    )


def test_assigning_a_group_goes_through_the_service_and_returns_to_the_members(
    su_client, spring, tenant, api
):
    anna = make_customer(tenant, "anna", first_name="Anna", last_name="Schmidt")
    fans = make_group(tenant, "fans", name={"en": "Fans"}, members=[anna])

    response = add(su_client, spring, fans)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/segments/segment/{spring.pk}/members/"
    assert messages_of(response) == ['group Fans (fans) in "Spring VIP" (spring) added.']
    listed = api.get(f"{API}/spring/groups")
    assert listed.status_code == 200
    assert [row["group"]["id"] for row in listed.json()] == ["fans"]
    event = Event.objects.get(tenant=tenant, type=EventType.GROUP_ASSIGNMENT_CREATED)
    assert (event.resource_id, event.actor) == ("spring/groups/fans", "admin:root")
    members = su_client.get(f"/admin/segments/segment/{spring.pk}/members/")
    assert "inherited (group Fans)" in members.content.decode()
    assert [c["id"] for c in api.get(f"{API}?customerId=anna").json()] == ["spring"]


def test_an_employee_group_is_refused_by_name_and_nothing_is_written(su_client, spring, tenant):
    staff = make_group(tenant, "staff", user_type=GroupUserType.EMPLOYEE)

    response = add(su_client, spring, staff)

    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["adminform"].form.non_field_errors())
    errors += " ".join(
        str(e) for field in response.context["adminform"].form.errors.values() for e in field
    )
    assert "staff" in errors
    assert not GroupAssignment.objects.filter(tenant=tenant).exists()
    assert not Event.objects.filter(tenant=tenant).exists()


def test_the_group_picker_has_a_plus_creating_the_group_in_the_forms_tenant(
    su_client, spring, tenant
):
    form = su_client.get(f"{ADMIN}/add/?segment={spring.pk}&tenant=acme").content.decode()
    assert 'id="add_id_group"' in form
    assert "/admin/segments/group/add/?_to_field=id&amp;_popup=1&amp;tenant=acme" in form

    response = su_client.post(
        "/admin/segments/group/add/?_to_field=id&_popup=1&tenant=acme",
        {
            "tenant": "acme",
            "external_id": "club",
            "name_en": "Club",
            "user_type": GroupUserType.CUSTOMER,
            "_popup": 1,
            **inline_management("groupmember_set"),
            **inline_management("groupmember_set-2"),
        },
    )

    assert response.status_code == 200, response.content[:2000]
    assert "popup_response" in response.content.decode()
    club = Group.objects.get(external_id="club")
    assert club.tenant_id == "acme"
    assert add(su_client, spring, club).status_code == 302


def inline_management(prefix: str) -> dict[str, int]:
    return {
        f"{prefix}-TOTAL_FORMS": 0,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_deleting_and_removing_many_record_an_event_each(su_client, spring, tenant, api):
    groups = [make_group(tenant, f"g{i}") for i in range(3)]
    rows = [assign_group(spring, group) for group in groups]

    response = su_client.post(f"{ADMIN}/{rows[0].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = su_client.post(
        f"{ADMIN}/",
        {"action": "remove_selected", "_selected_action": [rows[1].pk, rows[2].pk]},
    )
    assert response.status_code == 302
    assert messages_of(response)[-1] == 'Removed 2 group(s) from "Spring VIP" (spring).'

    assert api.get(f"{API}/spring/groups").json() == []
    deleted = Event.objects.filter(tenant=tenant, type=EventType.GROUP_ASSIGNMENT_DELETED)
    assert sorted(deleted.values_list("resource_id", flat=True)) == [
        "spring/groups/g0",
        "spring/groups/g1",
        "spring/groups/g2",
    ]


def test_the_list_of_a_segments_groups_is_titled_by_it_and_linked_from_its_members(
    su_client, spring, tenant
):
    assign_group(spring, make_group(tenant, "fans"))
    response = su_client.get(f"{ADMIN}/", {"segment": spring.pk})
    assert response.context["title"] == 'Groups in "Spring VIP" (spring)'
    members = su_client.get(f"/admin/segments/segment/{spring.pk}/members/").content.decode()
    assert f'id="segment-groups" href="{ADMIN}/?segment={spring.pk}"' in members
    assert f'<a href="{ADMIN}/?segment={spring.pk}">Groups</a>' in members  # the tab
    form = su_client.get(f"/admin/segments/segment/{spring.pk}/change/").content.decode()
    assert f'class="workspace-groups" href="{ADMIN}/?segment={spring.pk}"' in form


@pytest.mark.parametrize("n", [1, 12])
def test_the_list_reads_the_same_queries_for_one_group_and_many(su_client, spring, tenant, n):
    for i in range(n):
        assign_group(spring, make_group(tenant, f"g{i}", name={"en": f"Group {i}"}))
    check = assert_same_queries("admin.groupassignment.changelist", status=200)
    response = check(lambda: su_client.get(f"{ADMIN}/", {"segment": spring.pk}))
    assert response.content.decode().count('class="field-group_id_link"') == n


def test_merchandisers_curate_group_assignments():
    group = merchandiser_group_sync()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {
        "view_groupassignment",
        "add_groupassignment",
        "change_groupassignment",
        "delete_groupassignment",
    } <= codenames


def test_the_history_names_groups_and_legal_entities_and_filters_groups(
    su_client, spring, tenant, api
):
    company = make_legal_entity(tenant, "le-1", name="Schmidt GmbH")
    make_customer(tenant, "anna", first_name="Anna", last_name="Schmidt", legal_entities=[company])
    make_group(tenant, "fans", name={"en": "Fans"})
    assert api.put(f"{API}/spring/groups/fans", {}, format="json").status_code == 201
    assert api.put(f"{API}/spring/customers/anna/le-1", {}, format="json").status_code == 201
    assert api.delete(f"{API}/spring/groups/fans").status_code == 204
    history = f"/admin/segments/segment/{spring.pk}/history/"

    def lines(**params) -> list[str]:
        entries = su_client.get(history, params).context["entries"]
        return [f"{entry['what']}: {entry['subject']}" for entry in entries]

    assert lines() == [
        "Group removed: Fans (fans)",
        "Customer added: Anna Schmidt (anna) for Schmidt GmbH (le-1)",
        "Group added: Fans (fans)",
    ]
    assert lines(kind="groups") == ["Group removed: Fans (fans)", "Group added: Fans (fans)"]
