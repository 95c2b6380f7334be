"""Item assignments in bulk: PUT and DELETE `/segments/{segmentId}/items/{type}/bulk`."""

from __future__ import annotations

import pytest

from segments.choices import EventType, ItemType
from segments.models import Event, ItemAssignment
from tests.factories import (
    assign_category,
    assign_product,
    make_category,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries
from tests.schema import assert_matches


def url(type_: str = "PRODUCT", segment_id: str = "seg1") -> str:
    return f"/customer-segment/acme/segments/{segment_id}/items/{type_}/bulk"


@pytest.fixture
def world(tenant):
    segment = make_segment(tenant, "seg1")
    products = [make_product(tenant, f"p{n}") for n in range(3)]
    category = make_category(tenant, "cat1")
    return segment, products, category


@pytest.mark.django_db
class TestBulkUpsert:
    def test_every_element_gets_its_own_result(self, world, manage_client):
        segment, (_, p1, _), _ = world
        assign_product(segment, p1, version=2)
        response = manage_client.put(
            url("product"),
            [
                {"id": "p0", "mixins": {"a": 1}},
                {"id": "p1", "metadata": {"version": 2}},
                {"id": "cat1"},
                {"mixins": {}},
                {"id": "p0"},
                {"id": "p2", "metadata": {"version": 1}, "unexpected": True},
                {"id": "p1", "metadata": {"version": 2}},
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
                "message": "The product with id cat1 does not exist.",
            },
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "id: This field is required.",
            },
            {
                "index": 5,
                "code": 409,
                "status": "Conflict",
                "message": "The product with id p0 appears more than once in this request; "
                "only the first counts.",
            },
            {
                "index": 6,
                "code": 400,
                "status": "Bad Request",
                "message": "unexpected: Unknown field.",
            },
            {
                "index": 7,
                "code": 409,
                "status": "Conflict",
                "message": "The product with id p1 appears more than once in this request; "
                "only the first counts.",
            },
        ]
        assert_matches(body, "BulkAssignmentResponse", array=True)
        rows = {r.product.external_id: r for r in ItemAssignment.objects.select_related("product")}
        assert set(rows) == {"p0", "p1"}
        assert (rows["p0"].version, rows["p0"].mixins) == (1, {"a": 1})
        assert rows["p1"].version == 3
        assert sorted(Event.objects.values_list("type", "resource_id")) == [
            (EventType.ITEM_ASSIGNMENT_CREATED, "seg1/PRODUCT/p0"),
            (EventType.ITEM_ASSIGNMENT_UPDATED, "seg1/PRODUCT/p1"),
        ]

    def test_categories_in_bulk(self, world, manage_client):
        response = manage_client.put(url("Category"), [{"id": "cat1"}, {"id": "p0"}], format="json")
        assert [e["code"] for e in response.json()] == [201, 400]
        assert ItemAssignment.objects.get().type == ItemType.CATEGORY

    def test_bad_type_is_400_and_unknown_segment_is_404(self, world, manage_client):
        response = manage_client.put(url("brand"), [{"id": "p0"}], format="json")
        assert response.status_code == 400
        assert "brand" in response.json()["message"]
        response = manage_client.put(url(segment_id="nope"), [{"id": "p0"}], format="json")
        assert response.status_code == 404

    def test_query_count_does_not_grow_with_the_batch(self, tenant, world, manage_client):
        check = assert_same_queries("item_assignments.bulk.put", status=207)
        segment = world[0]
        for n in range(60):
            product = make_product(tenant, f"q{n:02d}")
            if n % 2:
                assign_product(segment, product)
        # Tenant, savepoint, segment lock, items, existing rows, INSERT, UPDATE, events, release.
        # One create and one update: every statement a batch can need, as in the big one.
        one = [{"id": "q00"}, {"id": "q01"}]
        response = check(lambda: manage_client.put(url(), one, format="json"))
        assert [e["code"] for e in response.json()] == [201, 204]
        response = check(
            lambda: manage_client.put(
                url(), [{"id": f"q{n:02d}"} for n in range(2, 60)], format="json"
            )
        )
        assert {e["code"] for e in response.json()} == {201, 204}
        assert ItemAssignment.objects.count() == 60


@pytest.mark.django_db
class TestBulkDelete:
    def test_every_element_gets_its_own_result(self, world, manage_client):
        segment, (p0, p1, _), category = world
        assign_product(segment, p0)
        assign_product(segment, p1)
        kept = assign_category(segment, category)
        response = manage_client.delete(
            url(), ["p0", "p0", "p2", 7, "", "cat1", "p1"], format="json"
        )
        assert response.status_code == 207
        body = response.json()
        assert body == [
            {"index": 1, "code": 204, "status": "OK"},
            {
                "index": 2,
                "code": 409,
                "status": "Conflict",
                "message": "The product with id p0 appears more than once in this request; "
                "only the first counts.",
            },
            {
                "index": 3,
                "code": 404,
                "status": "Not Found",
                "message": "The product with id p2 is not assigned to the segment with id seg1.",
            },
            {
                "index": 4,
                "code": 400,
                "status": "Bad Request",
                "message": "Each element must be an item id (a non-empty string), not 7.",
            },
            {
                "index": 5,
                "code": 400,
                "status": "Bad Request",
                "message": 'Each element must be an item id (a non-empty string), not "".',
            },
            {
                "index": 6,
                "code": 404,
                "status": "Not Found",
                "message": "The product with id cat1 is not assigned to the segment with id seg1.",
            },
            {"index": 7, "code": 204, "status": "OK"},
        ]
        assert_matches(body, "BulkAssignmentResponse", array=True)
        assert list(ItemAssignment.objects.all()) == [kept]
        assert sorted(Event.objects.values_list("type", "resource_id")) == [
            (EventType.ITEM_ASSIGNMENT_DELETED, "seg1/PRODUCT/p0"),
            (EventType.ITEM_ASSIGNMENT_DELETED, "seg1/PRODUCT/p1"),
        ]

    def test_whole_request_problems_are_400(self, world, manage_client):
        assert manage_client.delete(url(), {"items": ["p0"]}, format="json").status_code == 400
        assert manage_client.delete(url(), ["p0"] * 201, format="json").status_code == 400
        response = manage_client.delete(url(), {"ids": ["p0"] * 201}, format="json")
        assert response.status_code == 400
        assert response.json()["message"] == "ids has 201 elements; at most 200 are allowed."

    def test_the_sdk_form_ids_answers_as_the_array(self, world, manage_client):
        # The platform's TypeScript SDK types bulk deletes as {"ids": [...]}.
        segment, (p0, _, _), _ = world
        assign_product(segment, p0)
        response = manage_client.delete(url(), {"ids": ["p0", "p2", 7]}, format="json")
        assert response.status_code == 207
        assert response.json() == [
            {"index": 1, "code": 204, "status": "OK"},
            {
                "index": 2,
                "code": 404,
                "status": "Not Found",
                "message": "The product with id p2 is not assigned to the segment with id seg1.",
            },
            {
                "index": 3,
                "code": 400,
                "status": "Bad Request",
                "message": "Each element must be an item id (a non-empty string), not 7.",
            },
        ]
        assert not ItemAssignment.objects.exists()
        assert Event.objects.count() == 1

    def test_query_count_does_not_grow_with_the_batch(self, tenant, world, manage_client):
        check = assert_same_queries("item_assignments.bulk.delete", status=207)
        segment = world[0]
        for n in range(60):
            assign_category(segment, make_category(tenant, f"k{n:02d}"))
        one = check(lambda: manage_client.delete(url("category"), ["k00"], format="json"))
        assert [e["code"] for e in one.json()] == [204]
        response = check(
            lambda: manage_client.delete(
                url("category"), [f"k{n:02d}" for n in range(1, 60)], format="json"
            )
        )
        assert {e["code"] for e in response.json()} == {204}
        assert not ItemAssignment.objects.exists()
