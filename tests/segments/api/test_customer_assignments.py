"""Customer assignments one at a time: list, search, B2C and B2B get, upsert and delete."""

from __future__ import annotations

import pytest

from segments.choices import AssignmentType, EventType
from segments.models import CustomerAssignment, Event
from tests.conftest import READ
from tests.factories import (
    assign_customer,
    make_customer,
    make_legal_entity,
    make_segment,
    stored_metadata,
)
from tests.schema import assert_error_body, assert_matches

BASE = "/customer-segment/acme/segments"


def url(segment_id: str, *rest: str) -> str:
    return "/".join([BASE, segment_id, "customers", *rest])


@pytest.fixture
def world(tenant):
    """A segment, a B2C customer, and a B2B customer of one legal entity."""
    segment = make_segment(tenant, "seg1")
    company = make_legal_entity(tenant, "le1", name="SomeCompany")
    john = make_customer(
        tenant, "c1", first_name="John", last_name="Doe", email="john.doe@email.com"
    )
    jane = make_customer(
        tenant,
        "c2",
        first_name="Jane",
        last_name="Roe",
        email="jane@email.com",
        legal_entities=[company],
    )
    return segment, company, john, jane


@pytest.mark.django_db
class TestUpsertB2C:
    def test_put_creates_a_manual_assignment_with_an_empty_201(self, world, manage_client):
        segment, _, john, _ = world
        response = manage_client.put(url("seg1", "c1"), {"mixins": {"a": 1}}, format="json")
        assert response.status_code == 201
        assert response.content == b""
        row = CustomerAssignment.objects.get(segment=segment, customer=john)
        assert row.legal_entity is None
        assert row.assignment_type == AssignmentType.MANUAL
        assert row.version == 1
        assert row.mixins == {"a": 1}
        event = Event.objects.get()
        assert event.type == EventType.CUSTOMER_ASSIGNMENT_CREATED
        assert event.resource_id == "seg1/c1"
        assert event.payload["segmentId"] == "seg1"
        assert event.payload["customer"] == {"id": "c1"}

    def test_put_without_a_body_creates_too(self, world, manage_client):
        response = manage_client.put(url("seg1", "c1"))
        assert response.status_code == 201
        assert CustomerAssignment.objects.count() == 1

    def test_put_with_the_current_version_updates(self, world, manage_client):
        segment, _, john, _ = world
        assign_customer(segment, john)
        response = manage_client.put(url("seg1", "c1"), {"metadata": {"version": 1}}, format="json")
        assert response.status_code == 204
        assert CustomerAssignment.objects.get().version == 2

    def test_put_turns_an_automatic_assignment_manual(self, world, manage_client):
        segment, _, john, _ = world
        assign_customer(segment, john, assignment_type=AssignmentType.AUTOMATIC)
        assert manage_client.put(url("seg1", "c1")).status_code == 204
        assert CustomerAssignment.objects.get().assignment_type == AssignmentType.MANUAL


@pytest.mark.django_db
class TestUpsertB2B:
    def test_put_creates_a_b2b_assignment(self, world, manage_client):
        _, company, _, jane = world
        response = manage_client.put(url("seg1", "c2", "le1"), {}, format="json")
        assert response.status_code == 201
        row = CustomerAssignment.objects.get()
        assert (row.customer, row.legal_entity) == (jane, company)
        assert Event.objects.get().resource_id == "seg1/c2/le1"

    def test_b2c_and_b2b_of_one_customer_are_different_assignments(
        self, world, manage_client, read_client
    ):
        assert manage_client.put(url("seg1", "c2")).status_code == 201
        assert manage_client.put(url("seg1", "c2", "le1")).status_code == 201
        assert manage_client.put(url("seg1", "c2", "le1")).status_code == 204
        assert manage_client.put(url("seg1", "c2")).status_code == 204
        assert CustomerAssignment.objects.count() == 2
        assert "legalEntity" not in read_client.get(url("seg1", "c2")).json()
        assert read_client.get(url("seg1", "c2", "le1")).json()["legalEntity"]["id"] == "le1"

    def test_unknown_legal_entity_is_400_naming_it(self, world, manage_client):
        response = manage_client.put(url("seg1", "c2", "nocompany"))
        assert response.status_code == 400
        assert response.json()["message"] == "The legal entity with id nocompany does not exist."

    def test_unknown_customer_and_legal_entity_are_both_named(self, world, manage_client):
        response = manage_client.put(url("seg1", "ghost", "nocompany"))
        assert response.status_code == 400
        assert response.json()["message"] == (
            "The customer with id ghost does not exist. "
            "The legal entity with id nocompany does not exist."
        )

    def test_customer_outside_the_legal_entity_is_400(self, world, manage_client):
        response = manage_client.put(url("seg1", "c1", "le1"))
        assert response.status_code == 400
        assert response.json()["message"] == (
            "The customer with id c1 does not belong to the legal entity with id le1."
        )
        assert not CustomerAssignment.objects.exists()

    def test_stale_version_is_409(self, world, manage_client):
        segment, company, _, jane = world
        assign_customer(segment, jane, company)
        response = manage_client.put(
            url("seg1", "c2", "le1"), {"metadata": {"version": 7}}, format="json"
        )
        assert response.status_code == 409
        assert "at version 1, not 7" in response.json()["message"]


@pytest.mark.django_db
class TestRetrieve:
    def test_b2c_get_returns_the_assignment_with_the_customer(self, world, read_client):
        segment, _, john, _ = world
        row = assign_customer(segment, john)
        response = read_client.get(url("seg1", "c1"))
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "customer": {
                "id": "c1",
                "firstName": "John",
                "lastName": "Doe",
                "email": "john.doe@email.com",
            },
            "assignmentType": "MANUAL",
            "metadata": stored_metadata(row),
        }
        assert_matches(body, "CustomerAssignmentB2CResponse")

    def test_b2b_get_embeds_the_legal_entity(self, world, read_client):
        segment, company, _, jane = world
        row = assign_customer(
            segment,
            jane,
            company,
            mixins={"tier": "gold"},
            metadata_mixins={"tier": "https://example.com/tier.json"},
        )
        body = read_client.get(url("seg1", "c2", "le1")).json()
        assert body == {
            "customer": {
                "id": "c2",
                "firstName": "Jane",
                "lastName": "Roe",
                "email": "jane@email.com",
            },
            "legalEntity": {"id": "le1", "name": "SomeCompany"},
            "assignmentType": "MANUAL",
            "mixins": {"tier": "gold"},
            "metadata": {
                **stored_metadata(row),
                "mixins": {"tier": "https://example.com/tier.json"},
            },
        }
        assert_matches(body, "CustomerAssignmentResponse")

    def test_b2c_get_does_not_find_a_b2b_assignment(self, world, read_client):
        segment, company, _, jane = world
        assign_customer(segment, jane, company)
        response = read_client.get(url("seg1", "c2"))
        assert response.status_code == 404
        assert response.json() == {
            "code": 404,
            "status": "Not Found",
            "message": "The customer with id c2 is not assigned to the segment with id seg1 (B2C).",
            "resourceId": "c2",
        }

    def test_b2b_get_of_a_missing_assignment_is_404(self, world, read_client):
        response = read_client.get(url("seg1", "c2", "le1"))
        assert response.status_code == 404
        assert response.json()["message"] == (
            "The customer with id c2 for the legal entity with id le1 is not assigned to the "
            "segment with id seg1."
        )

    def test_fields_projects_the_body(self, world, read_client):
        segment, _, john, _ = world
        assign_customer(segment, john)
        body = read_client.get(url("seg1", "c1"), {"fields": "customer.id,metadata.version"}).json()
        assert body == {"customer": {"id": "c1"}, "metadata": {"version": 1}}

    def test_manage_scope_alone_cannot_read(self, world, manage_client):
        assert manage_client.get(url("seg1", "c1")).status_code == 403


@pytest.mark.django_db
class TestDelete:
    def test_delete_removes_the_b2c_assignment_only(self, world, manage_client):
        segment, company, _, jane = world
        assign_customer(segment, jane)
        b2b = assign_customer(segment, jane, company)
        response = manage_client.delete(url("seg1", "c2"))
        assert response.status_code == 204
        assert response.content == b""
        assert list(CustomerAssignment.objects.all()) == [b2b]
        event = Event.objects.get()
        assert event.type == EventType.CUSTOMER_ASSIGNMENT_DELETED
        assert event.resource_id == "seg1/c2"

    def test_delete_removes_the_b2b_assignment(self, world, manage_client):
        segment, company, _, jane = world
        b2c = assign_customer(segment, jane)
        assign_customer(segment, jane, company)
        assert manage_client.delete(url("seg1", "c2", "le1")).status_code == 204
        assert list(CustomerAssignment.objects.all()) == [b2c]
        assert Event.objects.get().resource_id == "seg1/c2/le1"

    def test_delete_in_an_unknown_segment_is_404(self, world, manage_client):
        response = manage_client.delete(url("nope", "c1", "le1"))
        assert response.status_code == 404
        assert response.json()["resourceId"] == "nope"


@pytest.mark.django_db
class TestListAndSearch:
    def test_list_embeds_customers_and_legal_entities_in_id_order(self, world, read_client):
        segment, company, john, jane = world
        b2b = assign_customer(segment, jane, company)
        b2c_jane = assign_customer(segment, jane)
        b2c_john = assign_customer(segment, john, assignment_type=AssignmentType.AUTOMATIC)
        response = read_client.get(url("seg1"))
        assert response.status_code == 200
        body = response.json()
        assert_matches(body, "CustomerAssignmentResponse", array=True)
        assert [
            (a["customer"]["id"], a.get("legalEntity", {}).get("id"), a["assignmentType"])
            for a in body
        ] == [("c1", None, "AUTOMATIC"), ("c2", None, "MANUAL"), ("c2", "le1", "MANUAL")]
        assert body[2] == {
            "customer": {
                "id": "c2",
                "firstName": "Jane",
                "lastName": "Roe",
                "email": "jane@email.com",
            },
            "legalEntity": {"id": "le1", "name": "SomeCompany"},
            "assignmentType": "MANUAL",
            "metadata": stored_metadata(b2b),
        }
        assert body[0]["metadata"] == stored_metadata(b2c_john)
        assert body[1]["metadata"] == stored_metadata(b2c_jane)

    def test_list_of_an_empty_segment_is_an_empty_array(self, world, read_client):
        response = read_client.get(url("seg1"))
        assert response.status_code == 200
        assert response.json() == []

    def test_bad_page_size_is_400(self, world, read_client):
        response = read_client.get(url("seg1"), {"pageSize": "0"})
        assert response.status_code == 400
        assert response.json()["message"] == "pageSize must be 1 or more, not 0."

    def test_only_this_segments_assignments_are_listed(self, tenant, world, read_client):
        segment, _, john, jane = world
        assign_customer(segment, john)
        assign_customer(make_segment(tenant, "seg2"), jane)
        assert [a["customer"]["id"] for a in read_client.get(url("seg1")).json()] == ["c1"]

    def test_search_with_an_empty_body_lists_everything(self, world, read_client):
        segment, company, john, jane = world
        assign_customer(segment, john)
        assign_customer(segment, jane, company)
        response = read_client.post(url("seg1", "search"), {}, format="json")
        assert response.status_code == 200
        assert len(response.json()) == 2
        assert_matches(response.json(), "CustomerAssignmentResponse", array=True)

    def test_search_refuses_other_body_keys(self, world, read_client):
        response = read_client.post(url("seg1", "search"), {"query": "x"}, format="json")
        assert response.status_code == 400
        assert "query" in response.json()["message"]


@pytest.mark.django_db
class TestErrorBodies:
    def test_errors_match_the_yaml_error_schema(self, world, manage_client, read_client):
        segment, _, john, _ = world
        assign_customer(segment, john, version=2)
        for response in (
            manage_client.put(url("nope", "c1")),
            manage_client.put(url("seg1", "ghost")),
            manage_client.put(url("seg1", "c1"), {"metadata": {"version": 1}}, format="json"),
            manage_client.delete(url("seg1", "c2")),
            read_client.get(url("seg1", "c1", "le1")),
            read_client.put(url("seg1", "c1")),
            manage_client.put(url("seg1", "c1"), {"mixins": 3}, format="json"),
            manage_client.put(url("seg1", "c1"), {"mixins": 3, "x": 1}, format="json"),
        ):
            assert response.status_code in (400, 403, 404, 409)
            assert_error_body(response.json())

    def test_a_single_field_problem_comes_with_details(self, world, manage_client):
        response = manage_client.put(url("seg1", "c1"), {"mixins": 3}, format="json")
        assert response.json()["details"] == {
            "field": "mixins",
            "type": "not_a_dict",
            "message": 'Expected a dictionary of items but got type "int".',
        }


@pytest.mark.django_db
class TestRoutes:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("post", url("seg1", "c1")),
            ("patch", url("seg1", "c1", "le1")),
            ("post", url("seg1", "bulk")),
            ("get", url("seg1", "search")),
            ("post", url("seg1")),
        ],
    )
    def test_unmapped_methods_are_405(self, world, read_client, method, path):
        response = getattr(read_client, method)(path)
        assert response.status_code == 405
        assert response.json()["code"] == 405


@pytest.mark.django_db
class TestTenantIsolation:
    def test_another_tenants_records_are_unknown_here(self, world, other_tenant, manage_client):
        make_segment(other_tenant, "theirs")
        make_customer(other_tenant, "their-customer")
        assert manage_client.put(url("theirs", "c1")).status_code == 404
        response = manage_client.put(url("seg1", "their-customer"))
        assert response.status_code == 400
        assert response.json()["message"] == "The customer with id their-customer does not exist."

    def test_same_ids_in_two_tenants_stay_apart(self, world, other_tenant, make_client):
        segment, _, john, _ = world
        assign_customer(segment, john)
        their_segment = make_segment(other_tenant, "seg1")
        assign_customer(their_segment, make_customer(other_tenant, "c1", first_name="Other"))
        body = (
            make_client(other_tenant, READ)
            .get("/customer-segment/globex/segments/seg1/customers")
            .json()
        )
        assert [a["customer"]["firstName"] for a in body] == ["Other"]


@pytest.mark.django_db
class TestQuery:
    @pytest.fixture
    def rows(self, tenant, world):
        segment, company, john, jane = world
        ada = make_customer(tenant, "c3", first_name="Ada", last_name="Byron", email="ada@x.org")
        assign_customer(segment, john, mixins={"tier": "gold", "score": 7}, version=3)
        assign_customer(segment, jane, assignment_type=AssignmentType.AUTOMATIC)
        assign_customer(segment, jane, company, mixins={"tier": "silver"})
        assign_customer(segment, ada, metadata_mixins={"tier": "https://x/tier.json"})
        return segment

    def ids(self, response) -> list[tuple[str, str | None]]:
        assert response.status_code == 200, response.content
        return [(a["customer"]["id"], a.get("legalEntity", {}).get("id")) for a in response.json()]

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("assignmentType:AUTOMATIC", [("c2", None)]),
            ("assignmentType:MANUAL", [("c1", None), ("c2", "le1"), ("c3", None)]),
            ("customer.id:c2", [("c2", None), ("c2", "le1")]),
            ("customer.id:(c1,c3)", [("c1", None), ("c3", None)]),
            ("legalEntity.id:le1", [("c2", "le1")]),
            ("legalEntity.id:null", [("c1", None), ("c2", None), ("c3", None)]),
            ("legalEntity.id:exists", [("c2", "le1")]),
            ("customer.email:~john", [("c1", None)]),
            ("mixins.tier:gold", [("c1", None)]),
            ("mixins.score:>5", [("c1", None)]),
            ("mixins.tier:missing", [("c2", None), ("c3", None)]),
            ("metadata.version:>=2", [("c1", None)]),
            ("metadata.mixins.tier:exists", [("c3", None)]),
            ("customer.id:c2 assignmentType:MANUAL", [("c2", "le1")]),
            ("segmentId:seg1 customer.id:c3", [("c3", None)]),
        ],
    )
    def test_q_filters_the_list(self, rows, read_client, q, expected):
        assert self.ids(read_client.get(url("seg1"), {"q": q})) == expected

    def test_q_in_the_search_body(self, rows, read_client):
        response = read_client.post(
            url("seg1", "search"), {"q": "assignmentType:MANUAL mixins.tier:silver"}, format="json"
        )
        assert self.ids(response) == [("c2", "le1")]

    def test_sort_with_ties_broken_by_id(self, rows, read_client):
        response = read_client.get(url("seg1"), {"sort": "customer.lastName:DESC"})
        assert self.ids(response) == [("c2", None), ("c2", "le1"), ("c1", None), ("c3", None)]
        response = read_client.get(url("seg1"), {"sort": "assignmentType"})
        assert self.ids(response) == [("c2", None), ("c1", None), ("c2", "le1"), ("c3", None)]

    def test_dates_in_q(self, rows, read_client):
        response = read_client.get(
            url("seg1"), {"q": 'metadata.createdAt:(>="2000-01-01T00:00:00Z" AND <"2100-01-01")'}
        )
        assert len(self.ids(response)) == 4
        response = read_client.get(url("seg1"), {"q": 'metadata.createdAt:<"2000-01-01T00:00:00Z"'})
        assert self.ids(response) == []

    @pytest.mark.parametrize(
        "q", ["nosuchfield:1", "assignmentType:SOMETIMES", "metadata.version:>x", "customer.id:(a"]
    )
    def test_bad_q_is_400_naming_the_problem(self, rows, read_client, q):
        response = read_client.get(url("seg1"), {"q": q})
        assert response.status_code == 400
        assert response.json()["message"].startswith("Invalid query: ")

    def test_a_customer_tokens_q_cannot_reach_other_customers(self, rows, make_client):
        client = make_client("acme", READ, customer="c1")
        assert self.ids(client.get(url("seg1"), {"q": "customer.id:c2"})) == []
