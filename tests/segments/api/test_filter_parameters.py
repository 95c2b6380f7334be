"""The named query parameters (customerId, legalEntityId, siteCode, onlyActive), through HTTP."""

from __future__ import annotations

import pytest

from segments.choices import SegmentStatus
from tests.conftest import READ, READ_OWN
from tests.factories import (
    assign_customer,
    assign_product,
    make_customer,
    make_product,
    make_segment,
)

T = "/customer-segment/acme/segments"


@pytest.fixture
def data(tenant):
    main = make_segment(tenant, "main-on", site_code="main")
    off = make_segment(tenant, "main-off", site_code="main", status=SegmentStatus.INACTIVE)
    b2b = make_segment(tenant, "b2b-on", site_code="b2b")
    for segment in (main, off, b2b):
        assign_product(segment, make_product(tenant, f"p-{segment.external_id}"))
    customer = make_customer(tenant, "c1")
    assign_customer(main, customer)
    assign_customer(b2b, customer)
    return customer


def ids(response, key="id"):
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()]


@pytest.mark.django_db
class TestItemsOfAllSegments:
    def test_site_code_and_only_active_narrow(self, data, make_client):
        client = make_client("acme", READ)
        assert ids(client.get(f"{T}/items"), "segmentId") == ["b2b-on", "main-off", "main-on"]
        assert ids(client.get(f"{T}/items", {"siteCode": "main"}), "segmentId") == [
            "main-off",
            "main-on",
        ]
        assert ids(
            client.get(f"{T}/items", {"siteCode": "main", "onlyActive": "TRUE"}), "segmentId"
        ) == ["main-on"]
        assert len(ids(client.get(f"{T}/items", {"onlyActive": "false"}), "segmentId")) == 3

    @pytest.mark.parametrize(
        "params, message",
        [
            ({"siteCode": ""}, "siteCode must not be empty."),
            ({"siteCode": "  "}, "siteCode must not be empty."),
            ({"onlyActive": "yes"}, "onlyActive must be true or false, not 'yes'."),
            (
                {"siteCode": "", "onlyActive": "2"},
                "siteCode must not be empty; onlyActive must be true or false, not '2'.",
            ),
        ],
    )
    def test_bad_values_are_400_naming_the_parameter(self, data, make_client, params, message):
        response = make_client("acme", READ).get(f"{T}/items", params)
        assert response.status_code == 400
        assert response.json() == {"code": 400, "status": "Bad Request", "message": message}

    def test_a_customer_token_cannot_turn_only_active_off(self, data, make_client):
        client = make_client("acme", READ_OWN, customer="c1")
        assert ids(client.get(f"{T}/items", {"onlyActive": "false"}), "segmentId") == [
            "b2b-on",
            "main-on",
        ]


@pytest.mark.django_db
class TestSegmentListParameters:
    def test_customer_id_narrows(self, data, make_client):
        client = make_client("acme", READ)
        assert ids(client.get(T, {"customerId": "c1"})) == ["b2b-on", "main-on"]
        assert ids(client.get(T, {"customerId": "nobody"})) == []

    @pytest.mark.parametrize("name", ["customerId", "legalEntityId"])
    def test_empty_values_are_400(self, data, make_client, name):
        response = make_client("acme", READ).get(T, {name: ""})
        assert response.status_code == 400
        assert response.json()["message"] == f"{name} must not be empty."


@pytest.mark.django_db
class TestCategoryTreeSite:
    def test_empty_site_code_is_400(self, data, make_client):
        response = make_client("acme", READ_OWN, customer="c1").get(
            f"{T}/items/category-trees", {"siteCode": ""}
        )
        assert response.status_code == 400
        assert response.json()["message"] == "siteCode must not be empty."
