"""`GET /segments/me` and `GET /me/segments`: the calling customer's effective segments."""

from __future__ import annotations

import pytest

from segments.choices import SegmentStatus
from tests.conftest import MANAGE, READ, READ_OWN
from tests.factories import (
    assign_customer,
    assign_group,
    make_customer,
    make_group,
    make_legal_entity,
    make_segment,
)
from tests.querycounts import assert_same_queries
from tests.schema import assert_error_body

ROOT = "/customer-segment/acme"
PATHS = [f"{ROOT}/segments/me", f"{ROOT}/me/segments"]


@pytest.fixture
def world(tenant):
    le1 = make_legal_entity(tenant, "le1")
    alice = make_customer(tenant, "alice", legal_entities=[le1])
    make_customer(tenant, "bob")
    direct = make_segment(tenant, "direct", name={"en": "Direct", "de": "Direkt"}, site_code="main")
    assign_customer(direct, alice)
    assign_group(
        make_segment(tenant, "grouped", site_code="other"),
        make_group(tenant, "fans", members=[alice]),
    )
    assign_group(
        make_segment(tenant, "bound"),
        make_group(tenant, "le1-buyers", members=[alice], legal_entity=le1),
    )
    assign_customer(make_segment(tenant, "off", status=SegmentStatus.INACTIVE), alice)
    make_segment(tenant, "not-hers")


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
class TestMe:
    def test_the_customers_effective_segments_as_get_segments_answers_them(
        self, world, make_client, path
    ):
        alice = make_client("acme", READ_OWN, customer="alice")
        response = alice.get(path, headers={"X-Total-Count": "true"})
        assert response.status_code == 200
        assert response["X-Total-Count"] == "2"
        assert response.json() == alice.get(f"{ROOT}/segments").json()
        assert [row["id"] for row in response.json()] == ["direct", "grouped"]

    def test_paging_fields_site_and_languages(self, world, make_client, path):
        alice = make_client("acme", READ_OWN, customer="alice")
        page = alice.get(path, {"pageSize": 1, "pageNumber": 2, "fields": "id"})
        assert page.json() == [{"id": "grouped"}]
        site = alice.get(
            path, {"siteCode": "main", "fields": "id,name"}, headers={"Accept-Language": "de"}
        )
        assert site.json() == [{"id": "direct", "name": "Direkt"}]
        assert alice.get(path, {"sort": "id:desc", "fields": "id"}).json() == [
            {"id": "grouped"},
            {"id": "direct"},
        ]

    def test_a_legal_entity_brings_the_bound_groups(self, world, make_client, path):
        alice = make_client("acme", READ_OWN, customer="alice")
        by_param = alice.get(path, {"legalEntityId": "le1", "fields": "id"}).json()
        assert by_param == [{"id": "bound"}, {"id": "direct"}, {"id": "grouped"}]
        by_token = make_client("acme", READ_OWN, customer="alice", legal_entity="le1")
        assert by_token.get(path, {"fields": "id"}).json() == by_param

    def test_a_bad_site_code_is_400(self, world, make_client, path):
        alice = make_client("acme", READ_OWN, customer="alice")
        response = alice.get(path, {"siteCode": ""})
        assert response.status_code == 400
        assert response.json()["message"] == "siteCode must not be empty."

    def test_a_customer_of_no_segment_gets_an_empty_page(self, world, make_client, path):
        bob = make_client("acme", READ_OWN, customer="bob")
        response = bob.get(path, headers={"X-Total-Count": "true"})
        assert (response.status_code, response.json(), response["X-Total-Count"]) == (
            200,
            [],
            "0",
        )

    def test_a_read_token_without_a_customer_is_403_saying_so(self, world, make_client, path):
        response = make_client("acme", READ_OWN, READ).get(path)
        assert response.status_code == 403
        assert response.json()["message"] == (
            "A customersegment.segment_read_own token must carry a customerId."
        )
        assert_error_body(response.json())

    def test_a_token_without_read_own_is_403_naming_the_scope(self, world, make_client, path):
        response = make_client("acme", READ, MANAGE).get(path)
        assert response.status_code == 403
        assert response.json()["details"] == ["missing scope: customersegment.segment_read_own"]

    def test_only_get_is_served(self, world, make_client, path):
        client = make_client("acme", READ_OWN, MANAGE, customer="alice")
        assert client.put(path, {"name": "x", "siteCode": "main"}, format="json").status_code == 405
        assert client.delete(path).status_code == 405

    @pytest.mark.parametrize("size", [1, 9])
    def test_the_same_queries_for_one_segment_and_many(self, tenant, make_client, path, size):
        dave = make_customer(tenant, "dave")
        group = make_group(tenant, "g", members=[dave])
        for n in range(size):
            segment = make_segment(tenant, f"m{n}")
            (assign_group(segment, group) if n % 2 else assign_customer(segment, dave))
        client = make_client("acme", READ_OWN, customer="dave")
        response = assert_same_queries("segments.me", status=200)(lambda: client.get(path))
        assert len(response.json()) == size


@pytest.mark.django_db
class TestReservedId:
    def test_me_cannot_be_a_segment_id(self, tenant, make_client):
        client = make_client("acme", MANAGE)
        response = client.post(
            f"{ROOT}/segments",
            {"id": "me", "name": {"en": "Me"}, "siteCode": "main"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["message"] == (
            "id: 'me' is reserved: /segments/me is another operation."
        )
        response = client.put(
            f"{ROOT}/segments/me", {"name": {"en": "Me"}, "siteCode": "main"}, format="json"
        )
        assert response.status_code == 405
