"""Customer assignments in bulk: PUT and DELETE `/segments/{segmentId}/customers/bulk`."""

from __future__ import annotations

import pytest

from segments.choices import AssignmentType, EventType
from segments.models import CustomerAssignment, Event
from tests.factories import assign_customer, make_customer, make_legal_entity, make_segment
from tests.querycounts import assert_same_queries
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments/seg1/customers/bulk"


@pytest.fixture
def world(tenant):
    segment = make_segment(tenant, "seg1")
    company = make_legal_entity(tenant, "le1")
    other_company = make_legal_entity(tenant, "le2")
    john = make_customer(tenant, "c1")
    jane = make_customer(tenant, "c2", legal_entities=[company])
    return segment, company, other_company, john, jane


def keys() -> set[tuple[str, str | None]]:
    return {
        (row.customer.external_id, row.legal_entity.external_id if row.legal_entity else None)
        for row in CustomerAssignment.objects.select_related("customer", "legal_entity")
    }


@pytest.mark.django_db
class TestBulkUpsert:
    def test_every_element_gets_its_own_result_and_bad_ones_block_nothing(
        self, world, manage_client
    ):
        segment, company, _, john, jane = world
        assign_customer(segment, jane, company, version=2, assignment_type=AssignmentType.AUTOMATIC)
        response = manage_client.put(
            URL,
            [
                {"customerId": "c1", "mixins": {"a": 1}},  # B2C, new
                {"customerId": "c2", "legalEntityId": "le1", "metadata": {"version": 2}},
                {"customerId": "ghost"},
                {"customerId": "c1", "legalEntityId": "le2"},  # not a member of le2
                {"legalEntityId": "le1"},
                {"customerId": "c1"},  # the same as the first element
                {"customerId": "c2", "legalEntityId": "", "metadata": {"version": 5}},  # new B2C
                "not an object",
                {"customerId": "c2", "legalEntityId": "nocompany"},
            ],
            format="json",
        )
        assert response.status_code == 207
        body = response.json()
        assert body == [
            {"index": 1, "code": 201, "status": "Created"},
            {"index": 2, "code": 204, "status": "OK"},
            {
                "index": 3,
                "code": 400,
                "status": "Bad Request",
                "message": "The customer with id ghost does not exist.",
            },
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "The customer with id c1 does not belong to the legal entity with id le2.",
            },
            {
                "index": 5,
                "code": 400,
                "status": "Bad Request",
                "message": "customerId: This field is required.",
            },
            {
                "index": 6,
                "code": 409,
                "status": "Conflict",
                "message": "The assignment of customer c1 (B2C) appears more than once in this "
                "request; only the first counts.",
            },
            {"index": 7, "code": 201, "status": "Created"},
            {
                "index": 8,
                "code": 400,
                "status": "Bad Request",
                "message": "Each element must be a JSON object.",
            },
            {
                "index": 9,
                "code": 400,
                "status": "Bad Request",
                "message": "The legal entity with id nocompany does not exist.",
            },
        ]
        assert_matches(body, "BulkAssignmentResponse", array=True)
        assert keys() == {("c1", None), ("c2", "le1"), ("c2", None)}
        updated = CustomerAssignment.objects.get(customer=jane, legal_entity=company)
        assert (updated.version, updated.assignment_type) == (3, AssignmentType.MANUAL)
        assert CustomerAssignment.objects.get(customer=john).mixins == {"a": 1}
        assert sorted(Event.objects.values_list("type", "resource_id")) == sorted(
            [
                (EventType.CUSTOMER_ASSIGNMENT_CREATED, "seg1/c1"),
                (EventType.CUSTOMER_ASSIGNMENT_UPDATED, "seg1/c2/le1"),
                (EventType.CUSTOMER_ASSIGNMENT_CREATED, "seg1/c2"),
            ]
        )

    def test_types_are_not_coerced(self, world, manage_client):
        response = manage_client.put(
            URL,
            [
                {"customerId": 98029737},
                {"customerId": "c1", "metadata": {"version": "1"}},
                {"customerId": "c1", "legalEntityId": 5},
            ],
            format="json",
        )
        assert [(e["code"], e["message"]) for e in response.json()] == [
            (400, "customerId: Not a valid string."),
            (400, "metadata.version: A valid integer is required."),
            (400, "legalEntityId: Not a valid string."),
        ]
        assert not CustomerAssignment.objects.exists()

    def test_two_hundred_elements_are_fine(self, tenant, world, manage_client):
        for n in range(200):
            make_customer(tenant, f"bulk{n:03d}")
        body = [{"customerId": f"bulk{n:03d}"} for n in range(200)]
        response = manage_client.put(URL, body, format="json")
        assert response.status_code == 207
        assert {entry["code"] for entry in response.json()} == {201}
        assert CustomerAssignment.objects.count() == 200
        assert Event.objects.count() == 200

    def test_query_count_does_not_grow_with_the_batch(self, tenant, world, manage_client):
        check = assert_same_queries("customer_assignments.bulk.put", status=207)
        segment, company, _, _, _ = world
        for n in range(60):
            customer = make_customer(tenant, f"b{n:02d}", legal_entities=[company])
            if n % 3 == 0:
                assign_customer(segment, customer, company)
        # One update and one create: every statement a batch can need, as in the big one.
        one = [{"customerId": "b00", "legalEntityId": "le1"}, {"customerId": "b01"}]
        many = [
            {"customerId": f"b{n:02d}", "legalEntityId": "le1" if n % 2 == 0 else None}
            for n in range(2, 60)
        ]
        # Tenant, savepoint, segment lock, customers, legal entities, memberships, existing
        # rows, INSERT, UPDATE, events, release.
        response = check(lambda: manage_client.put(URL, one, format="json"))
        assert [e["code"] for e in response.json()] == [204, 201]
        response = check(lambda: manage_client.put(URL, many, format="json"))
        assert {e["code"] for e in response.json()} == {201, 204}


@pytest.mark.django_db
class TestBulkDelete:
    def test_an_element_that_is_no_object_is_a_400_entry(self, world, manage_client):
        segment, _, _, john, _ = world
        assign_customer(segment, john)
        response = manage_client.delete(URL, [None, 5, {"customerId": "c1"}], format="json")
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "code": 400, "status": "Bad Request", "message": "No data provided"},
            {
                "index": 2,
                "code": 400,
                "status": "Bad Request",
                "message": 'Each element must be {"customerId", "legalEntityId"}.',
            },
            {"index": 3, "code": 204, "status": "OK"},
        ]
        assert keys() == set()

    def test_every_element_gets_its_own_result(self, world, manage_client):
        segment, company, _, john, jane = world
        assign_customer(segment, john)
        assign_customer(segment, jane)
        assign_customer(segment, jane, company)
        response = manage_client.delete(
            URL,
            [
                {"customerId": "c2", "legalEntityId": "le1"},
                {"customerId": "c1"},
                {"customerId": "c1", "legalEntityId": None},
                {"customerId": "ghost"},
                {"legalEntityId": "le1"},
                {"customerId": "c1", "extra": 1},
                {"customerId": "c1", "legalEntityId": "le1"},
            ],
            format="json",
        )
        assert response.status_code == 207
        body = response.json()
        assert body == [
            {"index": 1, "code": 204, "status": "OK"},
            {"index": 2, "code": 204, "status": "OK"},
            {
                "index": 3,
                "code": 409,
                "status": "Conflict",
                "message": "The assignment of customer c1 (B2C) appears more than once in this "
                "request; only the first counts.",
            },
            {
                "index": 4,
                "code": 404,
                "status": "Not Found",
                "message": "The customer with id ghost is not assigned to the segment with id "
                "seg1 (B2C).",
            },
            {
                "index": 5,
                "code": 400,
                "status": "Bad Request",
                "message": "customerId: This field is required.",
            },
            {"index": 6, "code": 400, "status": "Bad Request", "message": "extra: Unknown field."},
            {
                "index": 7,
                "code": 404,
                "status": "Not Found",
                "message": "The customer with id c1 for the legal entity with id le1 is not "
                "assigned to the segment with id seg1.",
            },
        ]
        assert_matches(body, "BulkAssignmentResponse", array=True)
        assert keys() == {("c2", None)}
        assert sorted(Event.objects.values_list("type", "resource_id")) == [
            (EventType.CUSTOMER_ASSIGNMENT_DELETED, "seg1/c1"),
            (EventType.CUSTOMER_ASSIGNMENT_DELETED, "seg1/c2/le1"),
        ]

    def test_the_sdk_form_ids_takes_customer_ids_for_b2c_and_keys_for_b2b(
        self, world, manage_client
    ):
        # The platform's TypeScript SDK types bulk deletes as {"ids": [...]}: a string
        # there is a customer id (its B2C assignment), an object the array's element.
        segment, company, _, john, jane = world
        assign_customer(segment, john)
        assign_customer(segment, jane)
        assign_customer(segment, jane, company)
        response = manage_client.delete(
            URL,
            {"ids": ["c1", {"customerId": "c2", "legalEntityId": "le1"}, "ghost", "", 7]},
            format="json",
        )
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "code": 204, "status": "OK"},
            {"index": 2, "code": 204, "status": "OK"},
            {
                "index": 3,
                "code": 404,
                "status": "Not Found",
                "message": "The customer with id ghost is not assigned to the segment with id "
                "seg1 (B2C).",
            },
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "customerId: This field may not be blank.",
            },
            {
                "index": 5,
                "code": 400,
                "status": "Bad Request",
                "message": 'Each element must be {"customerId", "legalEntityId"}.',
            },
        ]
        assert keys() == {("c2", None)}

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"ids": "c1"}, "ids must be a JSON array."),
            ({"ids": []}, "ids is an empty array; send 1 to 200 elements."),
            (
                {"ids": ["c1"], "force": True},
                'The request body must be a JSON array or {"ids": [...]}; '
                "unknown member(s): force.",
            ),
            ({}, 'The request body must be a JSON array or {"ids": [...]}; ids is missing.'),
            ("c1", 'The request body must be a JSON array or {"ids": [...]}.'),
        ],
    )
    def test_a_malformed_bulk_delete_body_is_400_naming_the_problem(
        self, world, manage_client, body, message
    ):
        response = manage_client.delete(URL, body, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == message

    def test_query_count_does_not_grow_with_the_batch(self, tenant, world, manage_client):
        check = assert_same_queries("customer_assignments.bulk.delete", status=207)
        segment = world[0]
        for n in range(60):
            assign_customer(segment, make_customer(tenant, f"d{n:02d}"))
        one = check(lambda: manage_client.delete(URL, [{"customerId": "d00"}], format="json"))
        assert [e["code"] for e in one.json()] == [204]
        response = check(
            lambda: manage_client.delete(
                URL, [{"customerId": f"d{n:02d}"} for n in range(1, 60)], format="json"
            )
        )
        assert {e["code"] for e in response.json()} == {204}
        assert not CustomerAssignment.objects.exists()
