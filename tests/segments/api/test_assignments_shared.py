"""What every kind of assignment does alike, one at a time and in bulk, once per kind.

Customer and item assignments share their upsert, version, delete, list and scope rules;
each case here runs once per kind. What only one kind has (B2B, item types, legal
entities, localized items) stays in test_customer_assignments*.py and
test_item_assignments*.py. A new kind of assignment is one more `Kind` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from segments.choices import EventType
from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from tenants.models import Tenant
from tests.conftest import MANAGE, READ
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
from tests.querycounts import assert_same_queries

BASE = "/customer-segment/acme/segments"


@dataclass(frozen=True)
class Kind:
    name: str
    collection: str
    model: type
    updated: str
    # The key of its list's query count in tests/query_counts.json.
    list_counts: str
    # The path of one assignment under the collection, from the assigned record's id.
    path: Callable[[str], tuple[str, ...]]
    # Make a record of this id that can be assigned.
    make: Callable[[Tenant, str], Any]
    # Assign a record to a segment (keyword fields go to the row).
    link: Callable[..., Any]
    # The collection's bulk path and one element of a bulk PUT and of a bulk DELETE.
    bulk: str
    element: Callable[..., Any]
    delete_element: Callable[[str], Any]
    # Assign the n-th of a varied mix of rows (B2C and B2B; products and categories).
    assign_varied: Callable[[Segment, Tenant, int], Any]
    # The assigned record's id in a rendered assignment.
    listed_id: Callable[[dict], str]
    stale: Callable[[str, int, int], str]
    missing: Callable[[str, str], str]
    # The message for a record of this id that does not exist.
    unknown: Callable[[str], str]

    def url(self, segment_id: str, *rest: str) -> str:
        return "/".join([BASE, segment_id, self.collection, *rest])

    def bulk_url(self, segment_id: str = "seg1") -> str:
        return self.url(segment_id, self.bulk)

    def assign(self, segment: Segment, record_id: str, **fields: Any) -> Any:
        """Assign a new record of this id to the segment (`fields` go to the row)."""
        return self.link(segment, self.make(segment.tenant, record_id), **fields)

    def one(self, segment_id: str, record_id: str) -> str:
        return self.url(segment_id, *self.path(record_id))


def _assign_varied_customer(segment: Segment, tenant: Tenant, n: int) -> None:
    company = make_legal_entity(tenant, f"le{n:02d}")
    customer = make_customer(tenant, f"x{n:02d}", legal_entities=[company])
    assign_customer(segment, customer, company if n % 2 else None)


def _assign_varied_item(segment: Segment, tenant: Tenant, n: int) -> None:
    if n % 2:
        assign_product(segment, make_product(tenant, f"p{n:02d}"))
    else:
        assign_category(segment, make_category(tenant, f"c{n:02d}"))


CUSTOMER = Kind(
    name="customer",
    collection="customers",
    model=CustomerAssignment,
    updated=EventType.CUSTOMER_ASSIGNMENT_UPDATED,
    list_counts="customer_assignments.list",
    path=lambda record_id: (record_id,),
    make=make_customer,
    link=assign_customer,
    bulk="bulk",
    element=lambda record_id, **fields: {"customerId": record_id, **fields},
    delete_element=lambda record_id: {"customerId": record_id},
    assign_varied=_assign_varied_customer,
    listed_id=lambda body: body["customer"]["id"],
    stale=lambda record_id, have, sent: (
        "The resource you are attempting to access has changed: the assignment of customer "
        f"{record_id} (B2C) is at version {have}, not {sent}."
    ),
    missing=lambda segment_id, record_id: (
        f"The customer with id {record_id} is not assigned to the segment with id "
        f"{segment_id} (B2C)."
    ),
    unknown=lambda record_id: f"The customer with id {record_id} does not exist.",
)
ITEM = Kind(
    name="item",
    collection="items",
    model=ItemAssignment,
    updated=EventType.ITEM_ASSIGNMENT_UPDATED,
    list_counts="item_assignments.list",
    path=lambda record_id: ("PRODUCT", record_id),
    make=make_product,
    link=assign_product,
    bulk="PRODUCT/bulk",
    element=lambda record_id, **fields: {"id": record_id, **fields},
    delete_element=lambda record_id: record_id,
    assign_varied=_assign_varied_item,
    listed_id=lambda body: body["item"]["id"],
    stale=lambda record_id, have, sent: (
        "The resource you are attempting to access has changed: the product assignment "
        f"{record_id} is at version {have}, not {sent}."
    ),
    missing=lambda segment_id, record_id: (
        f"The product with id {record_id} is not assigned to the segment with id {segment_id}."
    ),
    unknown=lambda record_id: f"The product with id {record_id} does not exist.",
)


@pytest.fixture(params=[CUSTOMER, ITEM], ids=lambda kind: kind.name)
def kind(request) -> Kind:
    return request.param


@pytest.fixture
def segment(tenant) -> Segment:
    return make_segment(tenant, "seg1")


@pytest.mark.django_db
class TestUpsert:
    def test_put_on_an_existing_one_replaces_it_with_a_new_version(
        self, kind, segment, manage_client
    ):
        row = kind.assign(segment, "r1", mixins={"old": 1})
        before = row.modified_at
        response = manage_client.put(
            kind.one("seg1", "r1"),
            {"mixins": {"new": 1}, "metadata": {"version": 1, "mixins": {"m": "https://x"}}},
            format="json",
        )
        assert response.status_code == 204
        assert response.content == b""
        row.refresh_from_db()
        assert (row.version, row.mixins, row.metadata_mixins) == (
            2,
            {"new": 1},
            {"m": "https://x"},
        )
        assert row.modified_at > before
        assert Event.objects.get().type == kind.updated

    def test_a_stale_version_is_409_and_writes_nothing(self, kind, segment, manage_client):
        kind.assign(segment, "r1", version=4, mixins={"keep": 1})
        response = manage_client.put(
            kind.one("seg1", "r1"), {"mixins": {}, "metadata": {"version": 3}}, format="json"
        )
        assert response.status_code == 409
        assert response.json() == {
            "code": 409,
            "status": "Conflict",
            "message": kind.stale("r1", 4, 3),
        }
        row = kind.model.objects.get()
        assert (row.version, row.mixins) == (4, {"keep": 1})
        assert not Event.objects.exists()

    def test_a_get_body_sent_back_is_accepted(self, kind, segment, manage_client, read_client):
        kind.assign(segment, "r1", mixins={"a": 1})
        body = read_client.get(kind.one("seg1", "r1")).json()
        body["mixins"] = {"a": 2}
        response = manage_client.put(kind.one("seg1", "r1"), body, format="json")
        assert response.status_code == 204
        assert kind.model.objects.get().mixins == {"a": 2}

    def test_an_unknown_record_is_400_naming_it(self, kind, segment, manage_client):
        response = manage_client.put(kind.one("seg1", "nobody"))
        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "status": "Bad Request",
            "message": kind.unknown("nobody"),
            "resourceId": "nobody",
        }
        assert not kind.model.objects.exists()

    def test_an_unknown_segment_is_404_naming_it(self, kind, tenant, segment, manage_client):
        kind.make(tenant, "r1")
        response = manage_client.put(kind.one("nope", "r1"))
        assert response.status_code == 404
        assert response.json() == {
            "code": 404,
            "status": "Not Found",
            "message": "The segment with id nope has not been found.",
            "resourceId": "nope",
        }

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ([1, 2], "The body must be a JSON object."),
            ({"mixin": {}}, "mixin: Unknown field."),
            ({"mixinz": {}}, "mixinz: Unknown field."),
            ({"mixins": "x"}, 'mixins: Expected a dictionary of items but got type "str".'),
            (
                {"metadata": {"version": 0}},
                "metadata.version: Ensure this value is greater than or equal to 1.",
            ),
            ({"metadata": {"versoin": 1}}, "metadata.versoin: Unknown field."),
        ],
    )
    def test_bad_bodies_are_400_naming_the_problem(
        self, kind, tenant, segment, manage_client, body, message
    ):
        kind.make(tenant, "r1")
        response = manage_client.put(kind.one("seg1", "r1"), body, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == message
        assert not kind.model.objects.exists()

    def test_read_scope_cannot_write(self, kind, segment, read_client):
        kind.assign(segment, "r1")
        response = read_client.put(kind.one("seg1", "r1"))
        assert response.status_code == 403
        assert response.json()["code"] == 403
        assert kind.model.objects.get().version == 1


@pytest.mark.django_db
class TestRead:
    def test_an_unknown_segment_is_404(self, kind, tenant, segment, read_client):
        kind.make(tenant, "r1")
        response = read_client.get(kind.one("nope", "r1"))
        assert response.status_code == 404
        assert response.json()["message"] == "The segment with id nope has not been found."
        assert read_client.get(kind.url("nope")).status_code == 404
        assert read_client.post(kind.url("nope", "search"), {}, format="json").status_code == 404


@pytest.mark.django_db
class TestDelete:
    def test_delete_of_a_missing_assignment_is_404_json(self, kind, segment, manage_client):
        response = manage_client.delete(kind.one("seg1", "r1"))
        assert response.status_code == 404
        assert response.json()["message"] == kind.missing("seg1", "r1")
        assert not Event.objects.exists()

    def test_read_scope_cannot_delete(self, kind, segment, read_client):
        kind.assign(segment, "r1")
        assert read_client.delete(kind.one("seg1", "r1")).status_code == 403
        assert kind.model.objects.count() == 1


@pytest.mark.django_db
class TestListAndSearch:
    def test_list_pages_and_counts(self, kind, segment, read_client):
        for n in range(5):
            kind.assign(segment, f"r{n}")
        response = read_client.get(
            kind.url("seg1"), {"pageSize": 2, "pageNumber": 2}, HTTP_X_TOTAL_COUNT="true"
        )
        assert response.status_code == 200
        assert [kind.listed_id(a) for a in response.json()] == ["r2", "r3"]
        assert response["X-Total-Count"] == "5"

    def test_list_costs_the_same_queries_for_one_row_and_many(
        self, kind, tenant, segment, read_client
    ):
        check = assert_same_queries(kind.list_counts, status=200)
        kind.assign_varied(segment, tenant, 99)
        # Token checks and tenant load, the segment, the page: no per-row query.
        assert len(check(lambda: read_client.get(kind.url("seg1"))).json()) == 1
        for n in range(30):
            kind.assign_varied(segment, tenant, n)
        assert len(check(lambda: read_client.get(kind.url("seg1"))).json()) == 31


@pytest.mark.django_db
class TestTenantIsolation:
    def test_another_tenants_token_is_403(self, kind, segment, other_tenant, make_client):
        kind.assign(segment, "r1")
        client = make_client(other_tenant, READ, MANAGE)
        for response in (
            client.get(kind.url("seg1")),
            client.post(kind.url("seg1", "search"), {}, format="json"),
            client.get(kind.one("seg1", "r1")),
            client.put(kind.one("seg1", "r1")),
            client.delete(kind.one("seg1", "r1")),
        ):
            assert response.status_code == 403
        assert kind.model.objects.get().version == 1


@pytest.mark.django_db
class TestBulkUpsert:
    def test_a_stale_version_is_a_409_entry_and_leaves_that_row_alone(
        self, kind, tenant, segment, manage_client
    ):
        kind.assign(segment, "r0", version=5, mixins={"keep": 1})
        kind.make(tenant, "r1")
        body = [kind.element("r0", mixins={}, metadata={"version": 4}), kind.element("r1")]
        response = manage_client.put(kind.bulk_url(), body, format="json")
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "code": 409, "status": "Conflict", "message": kind.stale("r0", 5, 4)},
            {"index": 2, "code": 201, "status": "Created"},
        ]
        row = kind.model.objects.get(version=5)
        assert row.mixins == {"keep": 1}
        assert kind.model.objects.count() == 2

    @pytest.mark.parametrize(
        ("shape", "message"),
        [
            ("object", "The request body must be a JSON array."),
            ("empty", "The request body is an empty array; send 1 to 200 elements."),
            ("201", "The request has 201 elements; at most 200 are allowed."),
        ],
    )
    def test_whole_request_problems_are_400(self, kind, segment, manage_client, shape, message):
        element = kind.element("r0")
        body = {"object": element, "empty": [], "201": [element] * 201}[shape]
        response = manage_client.put(kind.bulk_url(), body, format="json")
        assert response.status_code == 400
        assert response.json() == {"code": 400, "status": "Bad Request", "message": message}
        assert not kind.model.objects.exists()

    def test_an_element_that_is_no_object_is_a_400_entry_and_the_others_are_written(
        self, kind, tenant, segment, manage_client
    ):
        kind.make(tenant, "r1")
        body = [None, kind.element("r1"), 5]
        response = manage_client.put(kind.bulk_url(), body, format="json")
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "code": 400, "status": "Bad Request", "message": "No data provided"},
            {"index": 2, "code": 201, "status": "Created"},
            {
                "index": 3,
                "code": 400,
                "status": "Bad Request",
                "message": "Each element must be a JSON object.",
            },
        ]
        assert kind.model.objects.count() == 1

    def test_unknown_segment_is_404(self, kind, segment, manage_client):
        response = manage_client.put(kind.bulk_url("nope"), [kind.element("r0")], format="json")
        assert response.status_code == 404
        assert response.json()["message"] == "The segment with id nope has not been found."

    def test_read_scope_and_other_tenants_are_403(
        self, kind, tenant, segment, read_client, other_tenant, make_client
    ):
        kind.make(tenant, "r0")
        body = [kind.element("r0")]
        assert read_client.put(kind.bulk_url(), body, format="json").status_code == 403
        other = make_client(other_tenant, READ, MANAGE)
        assert other.put(kind.bulk_url(), body, format="json").status_code == 403
        assert not kind.model.objects.exists()


@pytest.mark.django_db
class TestBulkDelete:
    def test_over_two_hundred_is_400_and_deletes_nothing(self, kind, segment, manage_client):
        kind.assign(segment, "r0")
        body = [kind.delete_element("r0")] * 201
        response = manage_client.delete(kind.bulk_url(), body, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == (
            "The request has 201 elements; at most 200 are allowed."
        )
        assert kind.model.objects.count() == 1

    def test_unknown_segment_is_404(self, kind, segment, manage_client):
        body = [kind.delete_element("r0")]
        response = manage_client.delete(kind.bulk_url("nope"), body, format="json")
        assert response.status_code == 404
        assert response.json()["message"] == "The segment with id nope has not been found."

    def test_another_tenant_is_403(self, kind, segment, other_tenant, make_client):
        kind.assign(segment, "r0")
        client = make_client(other_tenant, READ, MANAGE)
        body = [kind.delete_element("r0")]
        assert client.delete(kind.bulk_url(), body, format="json").status_code == 403
        assert kind.model.objects.count() == 1
