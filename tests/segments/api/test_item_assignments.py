"""Item assignments of one segment: list, search, get, upsert and delete by `{type}/{itemId}`."""

from __future__ import annotations

import json

import pytest

from segments.choices import EventType, ItemType
from segments.models import Event, ItemAssignment
from tests.factories import (
    assign_category,
    assign_product,
    make_category,
    make_product,
    make_segment,
    stored_metadata,
)
from tests.schema import assert_error_body, assert_matches

BASE = "/customer-segment/acme/segments"


def url(segment_id: str, *rest: str) -> str:
    return "/".join([BASE, segment_id, "items", *rest])


@pytest.fixture
def world(tenant):
    """A segment, a product and a category that share the id `x1`."""
    segment = make_segment(tenant, "seg1")
    hammer = make_product(tenant, "12468504", code="123", name={"en": "Hammer", "de": "Hammer DE"})
    product_x = make_product(tenant, "x1", code="PX", name={"en": "Product X"})
    category_x = make_category(tenant, "x1", code="CX", name={"en": "Category X"})
    return segment, hammer, product_x, category_x


@pytest.mark.django_db
class TestUpsert:
    @pytest.mark.parametrize("path_type", ["PRODUCT", "product", "Product", "pRoDuCt"])
    def test_put_creates_with_an_empty_201_whatever_the_type_case(
        self, world, manage_client, path_type
    ):
        segment, hammer, _, _ = world
        response = manage_client.put(
            url("seg1", path_type, "12468504"), {"mixins": {"a": 1}}, format="json"
        )
        assert response.status_code == 201
        assert response.content == b""
        row = ItemAssignment.objects.get()
        assert (row.segment, row.type, row.product, row.mixins) == (
            segment,
            ItemType.PRODUCT,
            hammer,
            {"a": 1},
        )
        event = Event.objects.get()
        assert event.type == EventType.ITEM_ASSIGNMENT_CREATED
        assert event.resource_id == "seg1/PRODUCT/12468504"
        assert event.payload["item"] == {"id": "12468504", "code": "123"}

    def test_a_category_and_a_product_with_one_id_are_different_items(self, world, manage_client):
        assert manage_client.put(url("seg1", "category", "x1")).status_code == 201
        assert manage_client.put(url("seg1", "product", "x1")).status_code == 201
        assert manage_client.put(url("seg1", "CATEGORY", "x1")).status_code == 204
        assert sorted(ItemAssignment.objects.values_list("type", flat=True)) == [
            "CATEGORY",
            "PRODUCT",
        ]

    def test_a_product_id_is_not_a_category(self, world, manage_client):
        response = manage_client.put(url("seg1", "CATEGORY", "12468504"))
        assert response.status_code == 400
        assert response.json()["message"] == "The category with id 12468504 does not exist."

    def test_unknown_type_is_400_naming_it(self, world, manage_client):
        response = manage_client.put(url("seg1", "brand", "x1"))
        assert response.status_code == 400
        assert response.json() == {
            "code": 400,
            "status": "Bad Request",
            "message": "Unknown item type 'brand': the type is PRODUCT or CATEGORY "
            "(any letter case).",
            "resourceId": "brand",
        }


@pytest.mark.django_db
class TestRetrieve:
    def test_get_embeds_the_item(self, world, read_client):
        segment, hammer, _, _ = world
        row = assign_product(segment, hammer)
        response = read_client.get(url("seg1", "product", "12468504"))
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "segmentId": "seg1",
            "item": {"id": "12468504", "code": "123", "name": {"en": "Hammer", "de": "Hammer DE"}},
            "type": "PRODUCT",
            "metadata": stored_metadata(row),
        }
        assert_matches(body, "ItemAssignmentResponse")

    def test_accept_language_gives_plain_names(self, world, read_client):
        segment, hammer, _, category = world
        assign_product(segment, hammer)
        assign_category(segment, category, mixins={"k": "v"})
        body = read_client.get(
            url("seg1", "product", "12468504"), HTTP_ACCEPT_LANGUAGE="de-CH, fr;q=0.5"
        ).json()
        assert body["item"]["name"] == "Hammer DE"
        body = read_client.get(url("seg1", "category", "x1"), HTTP_ACCEPT_LANGUAGE="fr").json()
        assert body["item"] == {"id": "x1", "code": "CX", "name": "Category X"}
        assert body["mixins"] == {"k": "v"}

    def test_missing_assignment_is_404(self, world, read_client):
        response = read_client.get(url("seg1", "CATEGORY", "x1"))
        assert response.status_code == 404
        assert response.json() == {
            "code": 404,
            "status": "Not Found",
            "message": "The category with id x1 is not assigned to the segment with id seg1.",
            "resourceId": "x1",
        }

    def test_fields_projects(self, world, read_client):
        segment, hammer, _, _ = world
        assign_product(segment, hammer)
        body = read_client.get(
            url("seg1", "PRODUCT", "12468504"), {"fields": "item.id,type"}
        ).json()
        assert body == {"item": {"id": "12468504"}, "type": "PRODUCT"}

    def test_bad_type_is_400(self, world, read_client):
        assert read_client.get(url("seg1", "SKU", "x1")).status_code == 400


@pytest.mark.django_db
class TestDelete:
    def test_delete_removes_only_that_item(self, world, manage_client):
        segment, _, product_x, category_x = world
        assign_product(segment, product_x)
        kept = assign_category(segment, category_x)
        response = manage_client.delete(url("seg1", "Product", "x1"))
        assert response.status_code == 204
        assert list(ItemAssignment.objects.all()) == [kept]
        event = Event.objects.get()
        assert (event.type, event.resource_id) == (
            EventType.ITEM_ASSIGNMENT_DELETED,
            "seg1/PRODUCT/x1",
        )

    def test_delete_with_a_bad_type_is_400(self, world, manage_client):
        assert manage_client.delete(url("seg1", "thing", "x1")).status_code == 400


@pytest.mark.django_db
class TestListAndSearch:
    def test_list_orders_by_type_then_item_id(self, tenant, world, read_client):
        segment, hammer, product_x, category_x = world
        rows = [
            assign_product(segment, product_x),
            assign_category(segment, category_x),
            assign_product(segment, hammer),
        ]
        response = read_client.get(url("seg1"))
        assert response.status_code == 200
        body = response.json()
        assert_matches(body, "ItemAssignmentResponse", array=True)
        assert [(a["type"], a["item"]["id"]) for a in body] == [
            ("CATEGORY", "x1"),
            ("PRODUCT", "12468504"),
            ("PRODUCT", "x1"),
        ]
        assert body[0] == {
            "segmentId": "seg1",
            "item": {"id": "x1", "code": "CX", "name": {"en": "Category X"}},
            "type": "CATEGORY",
            "metadata": stored_metadata(rows[1]),
        }

    def test_list_of_another_segment_is_separate(self, tenant, world, read_client):
        segment, hammer, product_x, _ = world
        assign_product(segment, hammer)
        assign_product(make_segment(tenant, "seg2"), product_x)
        assert [a["item"]["id"] for a in read_client.get(url("seg2")).json()] == ["x1"]

    def test_a_page_number_past_any_list_is_400_not_a_database_error(self, world, read_client):
        response = read_client.get(url("seg1"), {"pageNumber": "99999999999999999999"})
        assert response.status_code == 400
        assert response.json()["message"] == (
            "pageNumber must be at most 1000000000, not 99999999999999999999."
        )
        response = read_client.get(url("seg1"), {"pageNumber": "1000000000", "pageSize": "1000"})
        assert response.status_code == 200
        assert response.json() == []

    def test_list_localizes_with_accept_language(self, world, read_client):
        segment, hammer, _, _ = world
        assign_product(segment, hammer)
        body = read_client.get(url("seg1"), HTTP_ACCEPT_LANGUAGE="de").json()
        assert body[0]["item"]["name"] == "Hammer DE"

    def test_search_with_an_empty_body_lists_everything(self, world, read_client):
        segment, hammer, _, category = world
        assign_product(segment, hammer)
        assign_category(segment, category)
        response = read_client.post(url("seg1", "search"), {}, format="json")
        assert response.status_code == 200
        assert [a["type"] for a in response.json()] == ["CATEGORY", "PRODUCT"]


@pytest.mark.django_db
class TestErrorBodies:
    def test_errors_match_the_yaml_error_schema(self, world, manage_client, read_client):
        segment, hammer, _, _ = world
        assign_product(segment, hammer, version=2)
        for response in (
            manage_client.put(url("nope", "PRODUCT", "x1")),
            manage_client.put(url("seg1", "PRODUCT", "ghost")),
            manage_client.put(url("seg1", "sku", "x1")),
            manage_client.put(
                url("seg1", "PRODUCT", "12468504"), {"metadata": {"version": 1}}, format="json"
            ),
            manage_client.delete(url("seg1", "CATEGORY", "x1")),
            read_client.get(url("seg1", "PRODUCT", "x1")),
            read_client.delete(url("seg1", "PRODUCT", "x1")),
        ):
            assert response.status_code in (400, 403, 404, 409)
            assert_error_body(response.json())


@pytest.mark.django_db
class TestNulCharacters:
    """PostgreSQL cannot hold NUL in text or jsonb: such input is a 400, never a 500."""

    @pytest.mark.parametrize(
        "path",
        [
            f"{BASE}/seg%00/items",
            f"{BASE}/seg1/items/PRODUCT/x%001",
            f"{BASE}/items?siteCode=main%00",
            f"{BASE}/seg1/items?q=item.id:x%00",
        ],
    )
    def test_nul_in_the_path_or_query_is_400(self, world, read_client, path):
        response = read_client.get(path)
        assert response.status_code == 400
        assert response.json()["message"] == (
            "The path or a query parameter contains a NUL character."
        )

    @pytest.mark.parametrize(
        "body",
        [
            {"mixins": {"a": "x\u0000"}},
            {"mixins": {"k\u0000": 1}},
            {"metadata": {"mixins": {"a": ["\u0000"]}}},
        ],
    )
    def test_nul_in_the_body_is_400(self, world, manage_client, body):
        response = manage_client.put(
            url("seg1", "PRODUCT", "x1"), json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["message"] == (
            "The request body contains a NUL character (\\u0000), which no field accepts."
        )
        assert not ItemAssignment.objects.exists()

    def test_an_escaped_backslash_u_is_just_text(self, world, manage_client):
        response = manage_client.put(
            url("seg1", "PRODUCT", "x1"),
            '{"mixins": {"a": "C:\\\\u0000"}}',
            content_type="application/json",
        )
        assert response.status_code == 201
        assert ItemAssignment.objects.get().mixins == {"a": "C:\\u0000"}


@pytest.mark.django_db
class TestRoutes:
    @pytest.mark.parametrize(
        ("method", "path", "allowed"),
        [
            ("post", url("seg1", "PRODUCT", "x1"), {"GET", "PUT", "DELETE"}),
            ("post", url("seg1", "PRODUCT", "bulk"), {"PUT", "DELETE"}),
            ("get", url("seg1", "search"), {"POST"}),
            ("delete", url("seg1"), {"GET"}),
            ("post", f"{BASE}/items", {"GET"}),
            ("put", f"{BASE}/items/category-trees", {"GET"}),
        ],
    )
    def test_unmapped_methods_are_405_with_allow(self, world, read_client, method, path, allowed):
        response = getattr(read_client, method)(path)
        assert response.status_code == 405
        assert response.json()["code"] == 405
        assert {m.strip() for m in response["Allow"].split(",")} >= allowed

    def test_literal_paths_are_not_taken_for_ids(self, tenant, world, manage_client, read_client):
        # A segment called "items" still has its own items; "bulk" is the bulk route.
        segment = make_segment(tenant, "items")
        assign_product(segment, world[1])
        body = read_client.get(url("items")).json()
        assert [a["segmentId"] for a in body] == ["items"]
        response = manage_client.put(url("seg1", "PRODUCT", "bulk"), [{"id": "x1"}], format="json")
        assert response.status_code == 207


@pytest.mark.django_db
class TestTenantIsolation:
    def test_another_tenants_catalogue_is_unknown_here(self, world, other_tenant, manage_client):
        make_product(other_tenant, "theirs")
        response = manage_client.put(url("seg1", "PRODUCT", "theirs"))
        assert response.status_code == 400
        assert response.json()["message"] == "The product with id theirs does not exist."


@pytest.mark.django_db
class TestQuery:
    @pytest.fixture
    def rows(self, tenant, world):
        segment, hammer, product_x, category_x = world
        assign_product(segment, hammer, mixins={"promo": True, "rank": 2}, version=2)
        assign_product(segment, product_x)
        assign_category(segment, category_x, mixins={"rank": 9})
        return segment

    def ids(self, response) -> list[tuple[str, str]]:
        assert response.status_code == 200, response.content
        return [(a["type"], a["item"]["id"]) for a in response.json()]

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("type:PRODUCT", [("PRODUCT", "12468504"), ("PRODUCT", "x1")]),
            ("type:CATEGORY", [("CATEGORY", "x1")]),
            ("item.id:x1", [("CATEGORY", "x1"), ("PRODUCT", "x1")]),
            ("item.id:(12468504,nope)", [("PRODUCT", "12468504")]),
            ("item.code:~^P", [("PRODUCT", "x1")]),
            ("item.name.en:Hammer", [("PRODUCT", "12468504")]),
            ("item.name.de:~DE", [("PRODUCT", "12468504")]),
            ("item.name:~(Category X)", [("CATEGORY", "x1")]),
            ("segmentId:seg1 type:CATEGORY", [("CATEGORY", "x1")]),
            ("segmentId:other", []),
            ("mixins.promo:true", [("PRODUCT", "12468504")]),
            ("mixins.rank:>=2", [("CATEGORY", "x1"), ("PRODUCT", "12468504")]),
            ("mixins.rank:missing", [("PRODUCT", "x1")]),
            ("metadata.version:2", [("PRODUCT", "12468504")]),
        ],
    )
    def test_q_filters_the_list(self, rows, read_client, q, expected):
        assert self.ids(read_client.get(url("seg1"), {"q": q})) == expected

    def test_q_in_the_search_body(self, rows, read_client):
        response = read_client.post(url("seg1", "search"), {"q": "type:PRODUCT"}, format="json")
        assert self.ids(response) == [("PRODUCT", "12468504"), ("PRODUCT", "x1")]

    def test_sort_by_item_fields(self, rows, read_client):
        response = read_client.get(url("seg1"), {"sort": "item.name.en:desc"})
        assert self.ids(response) == [
            ("PRODUCT", "x1"),
            ("PRODUCT", "12468504"),
            ("CATEGORY", "x1"),
        ]
        response = read_client.get(url("seg1"), {"sort": "item.code"})
        assert self.ids(response) == [
            ("PRODUCT", "12468504"),
            ("CATEGORY", "x1"),
            ("PRODUCT", "x1"),
        ]

    @pytest.mark.parametrize("q", ["item:1", "type:BRAND", "item.id:(a", "metadata.version:two"])
    def test_bad_q_is_400(self, rows, read_client, q):
        response = read_client.get(url("seg1"), {"q": q})
        assert response.status_code == 400
        assert response.json()["message"].startswith("Invalid query: ")
