"""Group assignments of one segment: list, search, get, upsert and delete by `groups/{groupId}`."""

from __future__ import annotations

import pytest

from segments.choices import EventType, GroupUserType
from segments.models import Event, GroupAssignment
from tests.conftest import READ, READ_OWN
from tests.factories import (
    assign_group,
    make_customer,
    make_group,
    make_segment,
    stored_metadata,
)
from tests.querycounts import assert_same_queries
from tests.schema import assert_error_body

BASE = "/customer-segment/acme/segments"


def url(segment_id: str, *rest: str) -> str:
    return "/".join([BASE, segment_id, "groups", *rest])


@pytest.fixture
def world(tenant):
    """A segment, a customer group with one member, and an employee group."""
    segment = make_segment(tenant, "seg1")
    alice = make_customer(tenant, "alice")
    vip = make_group(tenant, "vip", name={"en": "VIP buyers", "de": "VIP-Käufer"}, members=[alice])
    staff = make_group(tenant, "staff", name={"en": "Staff"}, user_type=GroupUserType.EMPLOYEE)
    return segment, vip, staff


@pytest.mark.django_db
class TestUpsert:
    def test_put_creates_with_201_and_the_group_id_and_an_event(self, world, manage_client):
        segment, vip, _ = world
        response = manage_client.put(url("seg1", "vip"), {"mixins": {"a": 1}}, format="json")
        assert response.status_code == 201
        assert response.json() == {"id": "vip"}
        row = GroupAssignment.objects.get()
        assert (row.segment, row.group, row.mixins, row.version) == (segment, vip, {"a": 1}, 1)
        event = Event.objects.get()
        assert event.type == EventType.GROUP_ASSIGNMENT_CREATED
        assert event.type == "customer-segment.segment-group-assignment-created"
        assert event.resource_id == "seg1/groups/vip"
        assert event.payload == {
            "segmentId": "seg1",
            "group": {"id": "vip", "name": {"en": "VIP buyers", "de": "VIP-Käufer"}},
            "mixins": {"a": 1},
            "metadata": stored_metadata(row),
        }

    def test_put_again_updates_with_204_a_new_version_and_an_updated_event(
        self, world, manage_client
    ):
        assert manage_client.put(url("seg1", "vip")).status_code == 201
        response = manage_client.put(
            url("seg1", "vip"), {"mixins": {"b": 2}, "metadata": {"version": 1}}, format="json"
        )
        assert response.status_code == 204
        assert response.content == b""
        row = GroupAssignment.objects.get()
        assert (row.mixins, row.version) == ({"b": 2}, 2)
        assert list(Event.objects.order_by("id").values_list("type", flat=True)) == [
            EventType.GROUP_ASSIGNMENT_CREATED,
            EventType.GROUP_ASSIGNMENT_UPDATED,
        ]

    def test_a_stale_version_is_409_and_writes_nothing(self, world, manage_client):
        assign_group(world[0], world[1])
        response = manage_client.put(
            url("seg1", "vip"), {"metadata": {"version": 7}}, format="json"
        )
        assert response.status_code == 409
        assert_error_body(response.json())
        assert GroupAssignment.objects.get().version == 1
        assert not Event.objects.exists()

    def test_an_unknown_group_is_400_naming_it(self, world, manage_client):
        response = manage_client.put(url("seg1", "nobody"))
        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "status": "Bad Request",
            "message": "The group with id nobody does not exist.",
            "resourceId": "nobody",
        }
        assert not GroupAssignment.objects.exists()

    def test_an_employee_group_is_400_naming_it(self, world, manage_client):
        response = manage_client.put(url("seg1", "staff"))
        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "status": "Bad Request",
            "message": "The group with id staff has userType EMPLOYEE: only groups with "
            "userType CUSTOMER can be assigned to segments.",
            "resourceId": "staff",
        }
        assert not Event.objects.exists()

    def test_another_tenants_group_is_unknown(self, world, other_tenant, manage_client):
        make_group(other_tenant, "theirs")
        response = manage_client.put(url("seg1", "theirs"))
        assert response.status_code == 400
        assert response.json()["message"] == "The group with id theirs does not exist."

    def test_an_unknown_segment_is_404(self, world, manage_client):
        response = manage_client.put(url("nope", "vip"))
        assert response.status_code == 404
        assert response.json()["message"] == "The segment with id nope has not been found."

    def test_an_unknown_body_field_is_400_naming_it(self, world, manage_client):
        response = manage_client.put(url("seg1", "vip"), {"mixinz": {}}, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == "mixinz: Unknown field."

    def test_what_a_get_answered_may_be_sent_back(self, world, manage_client, read_client):
        assert manage_client.put(url("seg1", "vip")).status_code == 201
        body = read_client.get(url("seg1", "vip")).json()
        assert manage_client.put(url("seg1", "vip"), body, format="json").status_code == 204

    def test_reading_scopes_cannot_write(self, world, make_client, tenant):
        response = make_client(tenant, READ).put(url("seg1", "vip"))
        assert response.status_code == 403
        assert response.json()["details"] == ["missing scope: customersegment.segment_manage"]


@pytest.mark.django_db
class TestReads:
    def test_get_shows_the_segment_and_the_group(self, world, read_client):
        row = assign_group(world[0], world[1], mixins={"x": True})
        response = read_client.get(url("seg1", "vip"))
        assert response.status_code == 200
        assert response.json() == {
            "segmentId": "seg1",
            "group": {"id": "vip", "name": {"en": "VIP buyers", "de": "VIP-Käufer"}},
            "mixins": {"x": True},
            "metadata": stored_metadata(row),
        }

    def test_get_follows_accept_language_and_fields(self, world, read_client):
        assign_group(world[0], world[1])
        response = read_client.get(
            url("seg1", "vip"), {"fields": "group"}, headers={"Accept-Language": "de"}
        )
        assert response.json() == {"group": {"id": "vip", "name": "VIP-Käufer"}}

    def test_get_of_a_group_not_assigned_is_404(self, world, read_client):
        response = read_client.get(url("seg1", "vip"))
        assert response.status_code == 404
        assert response.json()["message"] == (
            "The group with id vip is not assigned to the segment with id seg1."
        )

    def test_list_pages_sorts_and_counts(self, world, tenant, read_client):
        segment = world[0]
        for name in ("g3", "g1", "g2"):
            assign_group(segment, make_group(tenant, name, name={"en": name.upper()}))
        response = read_client.get(
            url("seg1"), {"pageSize": 2, "pageNumber": 1}, headers={"X-Total-Count": "true"}
        )
        assert response.status_code == 200
        assert response["X-Total-Count"] == "3"
        assert [row["group"]["id"] for row in response.json()] == ["g1", "g2"]
        response = read_client.get(url("seg1"), {"sort": "group.id:desc", "fields": "group.id"})
        assert response.json() == [{"group": {"id": g}} for g in ("g3", "g2", "g1")]

    def test_search_filters_on_the_group_id_and_name(self, world, tenant, read_client):
        segment = world[0]
        assign_group(segment, world[1])
        assign_group(segment, make_group(tenant, "other", name={"en": "Others"}))
        by_id = read_client.post(url("seg1", "search"), {"q": "group.id:vip"}, format="json")
        assert [row["group"]["id"] for row in by_id.json()] == ["vip"]
        by_name = read_client.post(
            url("seg1", "search"), {"q": "group.name.en:Others"}, format="json"
        )
        assert [row["group"]["id"] for row in by_name.json()] == ["other"]
        listed = read_client.get(url("seg1"), {"q": "group.name:~VIP"})
        assert [row["group"]["id"] for row in listed.json()] == ["vip"]

    def test_a_bad_q_is_400(self, world, read_client):
        response = read_client.post(url("seg1", "search"), {"q": "group.nope:1"}, format="json")
        assert response.status_code == 400
        assert "group.nope" in response.json()["message"]

    def test_the_list_of_an_unknown_segment_is_404(self, world, read_client):
        assert read_client.get(url("nope")).status_code == 404

    @pytest.mark.parametrize("size", [1, 12])
    @pytest.mark.parametrize("how", ["list", "search"])
    def test_the_list_costs_the_same_queries_for_one_row_and_many(
        self, world, tenant, read_client, size, how
    ):
        segment = world[0]
        for n in range(size):
            assign_group(segment, make_group(tenant, f"q{n:02d}", name={"en": f"G{n}"}))
        if how == "list":
            check = assert_same_queries("group_assignments.list", status=200)
            response = check(lambda: read_client.get(url("seg1")))
        else:
            check = assert_same_queries("group_assignments.search", status=200)
            response = check(lambda: read_client.post(url("seg1", "search"), {}, format="json"))
        assert len(response.json()) == size

    def test_another_tenant_sees_nothing(self, world, other_tenant, make_client):
        assign_group(world[0], world[1])
        client = make_client(other_tenant, READ)
        assert client.get("/customer-segment/globex/segments/seg1/groups").status_code == 404


@pytest.mark.django_db
class TestCustomerReads:
    def test_a_customer_sees_only_the_groups_it_belongs_through(self, world, tenant, make_client):
        segment, vip, _ = world
        assign_group(segment, vip)
        assign_group(segment, make_group(tenant, "others"))
        client = make_client(tenant, READ_OWN, customer="alice")
        response = client.get(url("seg1"))
        assert response.status_code == 200
        assert [row["group"]["id"] for row in response.json()] == ["vip"]
        assert client.get(url("seg1", "others")).status_code == 404
        assert client.get(url("seg1", "vip")).status_code == 200

    def test_a_customer_outside_the_segment_gets_404(self, world, tenant, make_client):
        assign_group(world[0], world[1])
        make_customer(tenant, "bob")
        client = make_client(tenant, READ_OWN, customer="bob")
        assert client.get(url("seg1")).status_code == 404


@pytest.mark.django_db
class TestDelete:
    def test_delete_removes_it_with_a_deleted_event(self, world, manage_client):
        row = assign_group(world[0], world[1])
        metadata = stored_metadata(row)
        response = manage_client.delete(url("seg1", "vip"))
        assert response.status_code == 204
        assert not GroupAssignment.objects.exists()
        event = Event.objects.get()
        assert (event.type, event.resource_id) == (
            "customer-segment.segment-group-assignment-deleted",
            "seg1/groups/vip",
        )
        assert event.payload == {
            "segmentId": "seg1",
            "group": {"id": "vip", "name": {"en": "VIP buyers", "de": "VIP-Käufer"}},
            "metadata": metadata,
        }

    def test_delete_of_a_group_not_assigned_is_404(self, world, manage_client):
        response = manage_client.delete(url("seg1", "vip"))
        assert response.status_code == 404
        assert_error_body(response.json())
        assert not Event.objects.exists()

    def test_delete_needs_manage(self, world, tenant, make_client):
        assign_group(world[0], world[1])
        response = make_client(tenant, READ).delete(url("seg1", "vip"))
        assert response.status_code == 403
        assert GroupAssignment.objects.exists()

    def test_a_forced_segment_delete_takes_its_group_assignments_with_events(
        self, world, manage_client
    ):
        assign_group(world[0], world[1])
        response = manage_client.delete(f"{BASE}/seg1?forceDelete=true")
        assert response.status_code == 204
        assert not GroupAssignment.objects.exists()
        assert list(Event.objects.order_by("id").values_list("type", "resource_id")) == [
            (EventType.GROUP_ASSIGNMENT_DELETED, "seg1/groups/vip"),
            (EventType.SEGMENT_DELETED, "seg1"),
        ]

    def test_a_segment_with_only_group_assignments_needs_force_delete(self, world, manage_client):
        assign_group(world[0], world[1])
        response = manage_client.delete(f"{BASE}/seg1")
        assert response.status_code == 400
        assert GroupAssignment.objects.exists()
