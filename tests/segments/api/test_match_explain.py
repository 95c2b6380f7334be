"""`POST /segments/match/explain` (SPEC §12): per item, whether it matches and through what."""

from __future__ import annotations

import pytest

from segments.choices import SegmentStatus
from tests.factories import (
    assign_category,
    assign_product,
    make_category,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries

pytestmark = pytest.mark.django_db

URL = "/customer-segment/acme/segments/match/explain"


@pytest.fixture
def catalogue(tenant):
    root = make_category(tenant, "root")
    shoes = make_category(tenant, "shoes", parent=root)
    boots = make_category(tenant, "boots", parent=shoes)
    gold = make_segment(tenant, "gold")
    silver = make_segment(tenant, "silver")
    off = make_segment(tenant, "off", status=SegmentStatus.INACTIVE)
    boot = make_product(tenant, "boot", categories=[boots])
    hat = make_product(tenant, "hat")
    make_product(tenant, "sock", categories=[root])
    assign_product(gold, boot)
    assign_category(silver, shoes)
    assign_product(off, hat)
    return locals()


def test_each_item_says_how_it_matched_in_request_order(admin_client_api, catalogue):
    body = {
        "siteCode": "main",
        "items": [{"id": "hat"}, {"id": "boot"}, {"id": "nope"}, {"id": "sock"}],
        "segmentIds": ["gold", "silver", "off"],
    }

    response = admin_client_api.post(URL, body, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == [
        {"id": "hat", "matched": False, "via": []},  # only an inactive segment holds it
        {
            "id": "boot",
            "matched": True,
            "via": [
                {"segmentId": "gold", "type": "PRODUCT", "categoryPath": []},
                {"segmentId": "silver", "type": "CATEGORY", "categoryPath": ["shoes", "boots"]},
            ],
        },
        {"id": "nope", "matched": False, "via": []},
        {"id": "sock", "matched": False, "via": []},  # root is above shoes, not below
    ]


def test_it_agrees_with_match(admin_client_api, catalogue):
    body = {
        "siteCode": "main",
        "items": [{"id": "hat"}, {"id": "boot"}, {"id": "sock"}],
        "segmentIds": ["gold", "silver", "off"],
    }
    matched = admin_client_api.post(
        "/customer-segment/acme/segments/match", body, format="json"
    ).json()
    explained = admin_client_api.post(URL, body, format="json").json()
    assert [item["id"] for item in explained if item["matched"]] == [m["id"] for m in matched]


def test_a_bad_body_is_a_400(admin_client_api, catalogue):
    response = admin_client_api.post(URL, {"items": "x"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("size", [1, 20])
def test_query_count_does_not_grow_with_the_items(admin_client_api, tenant, size):
    category = make_category(tenant)
    segment = make_segment(tenant, "gold")
    assign_category(segment, category)
    items = [{"id": make_product(tenant, categories=[category]).external_id} for _ in range(size)]
    check = assert_same_queries("match.explain", status=200)
    check(
        lambda: admin_client_api.post(
            URL, {"siteCode": "main", "items": items, "segmentIds": ["gold"]}, format="json"
        )
    )
