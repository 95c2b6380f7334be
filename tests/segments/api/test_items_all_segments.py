"""`GET /segments/items`: the items of all segments, narrowed by site, activity and caller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from segments.choices import SegmentStatus
from tests.conftest import MANAGE, READ, READ_OWN
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
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments/items"


def pairs(response) -> list[tuple[str, str, str]]:
    assert response.status_code == 200, response.content
    return [(a["segmentId"], a["type"], a["item"]["id"]) for a in response.json()]


@pytest.fixture
def world(tenant):
    """Segments of two sites, some not effective, each holding one product; a customer in all."""
    now = timezone.now()
    day = timedelta(days=1)
    segments = {
        "a-active": make_segment(tenant, "a-active"),
        "b-inactive": make_segment(tenant, "b-inactive", status=SegmentStatus.INACTIVE),
        "c-expired": make_segment(tenant, "c-expired", valid_to=now - day),
        "d-future": make_segment(tenant, "d-future", valid_from=now + day),
        "e-window": make_segment(tenant, "e-window", valid_from=now - day, valid_to=now + day),
        "f-other-site": make_segment(tenant, "f-other-site", site_code="de"),
        "g-not-mine": make_segment(tenant, "g-not-mine"),
    }
    customer = make_customer(tenant, "me")
    for segment_id, segment in segments.items():
        assign_product(segment, make_product(tenant, f"p-{segment_id}"))
        if segment_id != "g-not-mine":
            assign_customer(segment, customer)
    assign_category(segments["a-active"], make_category(tenant, "cat-a"))
    return segments


@pytest.mark.django_db
class TestReadScope:
    def test_all_items_of_all_segments_in_segment_type_item_order(self, world, read_client):
        response = read_client.get(URL)
        assert_matches(response.json(), "ItemAssignmentResponse", array=True)
        assert pairs(response) == [
            ("a-active", "CATEGORY", "cat-a"),
            ("a-active", "PRODUCT", "p-a-active"),
            ("b-inactive", "PRODUCT", "p-b-inactive"),
            ("c-expired", "PRODUCT", "p-c-expired"),
            ("d-future", "PRODUCT", "p-d-future"),
            ("e-window", "PRODUCT", "p-e-window"),
            ("f-other-site", "PRODUCT", "p-f-other-site"),
            ("g-not-mine", "PRODUCT", "p-g-not-mine"),
        ]

    def test_only_active_hides_inactive_and_out_of_validity_segments(self, world, read_client):
        assert [p[0] for p in pairs(read_client.get(URL, {"onlyActive": "true"}))] == [
            "a-active",
            "a-active",
            "e-window",
            "f-other-site",
            "g-not-mine",
        ]

    def test_only_active_false_is_everything(self, world, read_client):
        assert len(pairs(read_client.get(URL, {"onlyActive": "FALSE"}))) == 8

    def test_site_code_narrows_to_that_sites_segments(self, world, read_client):
        assert pairs(read_client.get(URL, {"siteCode": "de"})) == [
            ("f-other-site", "PRODUCT", "p-f-other-site")
        ]
        assert pairs(read_client.get(URL, {"siteCode": "nowhere"})) == []

    def test_bad_only_active_is_400(self, world, read_client):
        response = read_client.get(URL, {"onlyActive": "yes please"})
        assert response.status_code == 400
        assert response.json()["message"] == "onlyActive must be true or false, not 'yes please'."

    def test_paging_and_total(self, world, read_client):
        response = read_client.get(URL, {"pageSize": 3, "pageNumber": 2}, HTTP_X_TOTAL_COUNT="true")
        assert [p[0] for p in pairs(response)] == ["c-expired", "d-future", "e-window"]
        assert response["X-Total-Count"] == "8"

    def test_manage_scope_alone_is_403(self, world, manage_client):
        assert manage_client.get(URL).status_code == 403

    def test_query_count_does_not_grow_with_rows(self, tenant, read_client):
        check = assert_same_queries("items.all", status=200)
        segment = make_segment(tenant, "s")
        assign_product(segment, make_product(tenant, "one"))
        assert len(check(lambda: read_client.get(URL)).json()) == 1
        for n in range(40):
            other = make_segment(tenant, f"s{n:02d}")
            assign_product(other, make_product(tenant, f"p{n:02d}"))
            assign_category(other, make_category(tenant, f"c{n:02d}"))
        assert len(check(lambda: read_client.get(URL, {"pageSize": 100})).json()) == 81


@pytest.mark.django_db
class TestCustomerToken:
    def test_a_customer_sees_only_its_effective_segments_items(self, world, make_client):
        client = make_client("acme", READ_OWN, customer="me")
        assert pairs(client.get(URL)) == [
            ("a-active", "CATEGORY", "cat-a"),
            ("a-active", "PRODUCT", "p-a-active"),
            ("e-window", "PRODUCT", "p-e-window"),
            ("f-other-site", "PRODUCT", "p-f-other-site"),
        ]

    def test_only_active_false_does_not_widen_a_customers_view(self, world, make_client):
        client = make_client("acme", READ_OWN, customer="me")
        assert len(pairs(client.get(URL, {"onlyActive": "false"}))) == 4

    def test_site_code_narrows_a_customers_view(self, world, make_client):
        client = make_client("acme", READ_OWN, customer="me")
        assert [p[0] for p in pairs(client.get(URL, {"siteCode": "main"}))] == [
            "a-active",
            "a-active",
            "e-window",
        ]

    def test_a_customer_in_no_segment_sees_nothing(self, world, tenant, make_client):
        make_customer(tenant, "lonely")
        assert pairs(make_client("acme", READ_OWN, customer="lonely").get(URL)) == []

    def test_the_token_legal_entity_narrows_to_its_assignments(self, tenant, make_client):
        company = make_legal_entity(tenant, "le1")
        other_company = make_legal_entity(tenant, "le2")
        buyer = make_customer(tenant, "buyer", legal_entities=[company, other_company])
        for segment_id, legal_entity in (("for-le1", company), ("for-le2", other_company)):
            segment = make_segment(tenant, segment_id)
            assign_customer(segment, buyer, legal_entity)
            assign_product(segment, make_product(tenant, f"p-{segment_id}"))
        client = make_client("acme", READ_OWN, customer="buyer", legal_entity="le1")
        assert pairs(client.get(URL)) == [("for-le1", "PRODUCT", "p-for-le1")]
        client = make_client("acme", READ_OWN, customer="buyer")
        assert len(pairs(client.get(URL))) == 2
        assert pairs(client.get(URL, {"legalEntityId": "le2"})) == [
            ("for-le2", "PRODUCT", "p-for-le2")
        ]

    def test_a_read_own_token_without_a_customer_is_403(self, world, make_client):
        response = make_client("acme", READ_OWN).get(URL)
        assert response.status_code == 403
        assert "customerId" in response.json()["message"]

    def test_customer_query_count_does_not_grow_with_rows(self, tenant, make_client):
        check = assert_same_queries("items.all.customer", status=200)
        customer = make_customer(tenant, "me")
        client = make_client("acme", READ_OWN, customer="me")
        segment = make_segment(tenant, "s")
        assign_customer(segment, customer)
        assign_product(segment, make_product(tenant, "one"))
        assert len(check(lambda: client.get(URL)).json()) == 1
        for n in range(20):
            other = make_segment(tenant, f"s{n:02d}")
            assign_customer(other, customer)
            assign_product(other, make_product(tenant, f"p{n:02d}"))
        assert len(check(lambda: client.get(URL)).json()) == 21


@pytest.mark.django_db
def test_another_tenants_token_is_403_and_its_items_stay_apart(world, other_tenant, make_client):
    assert make_client(other_tenant, READ, MANAGE).get(URL).status_code == 403
    theirs = make_segment(other_tenant, "theirs")
    assign_product(theirs, make_product(other_tenant, "their-product"))
    response = make_client(other_tenant, READ).get("/customer-segment/globex/segments/items")
    assert pairs(response) == [("theirs", "PRODUCT", "their-product")]


@pytest.mark.django_db
class TestQuery:
    def test_q_on_segment_and_item_fields(self, world, read_client):
        assert pairs(read_client.get(URL, {"q": "segmentId:(a-active,f-other-site)"})) == [
            ("a-active", "CATEGORY", "cat-a"),
            ("a-active", "PRODUCT", "p-a-active"),
            ("f-other-site", "PRODUCT", "p-f-other-site"),
        ]
        assert pairs(read_client.get(URL, {"q": "type:CATEGORY"})) == [
            ("a-active", "CATEGORY", "cat-a")
        ]
        assert pairs(read_client.get(URL, {"q": "item.id:~expired"})) == [
            ("c-expired", "PRODUCT", "p-c-expired")
        ]

    def test_a_customer_tokens_q_cannot_widen_its_view(self, world, make_client):
        client = make_client("acme", READ_OWN, customer="me")
        assert pairs(client.get(URL, {"q": "segmentId:(b-inactive,g-not-mine)"})) == []

    def test_sort_then_the_stable_order(self, world, read_client):
        response = read_client.get(URL, {"sort": "type:DESC", "pageSize": 3})
        assert pairs(response) == [
            ("a-active", "PRODUCT", "p-a-active"),
            ("b-inactive", "PRODUCT", "p-b-inactive"),
            ("c-expired", "PRODUCT", "p-c-expired"),
        ]
