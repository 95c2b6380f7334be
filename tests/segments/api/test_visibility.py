"""Who sees what on every assignment read endpoint: manage, read, read_own (± legal entity).

A customer token (segment_read_own) sees only its own effective segments, their items and
its category tree, whatever the query asks; any other segment is a 404 to it, so it learns
nothing about segments it is not in.
"""

from __future__ import annotations

import pytest

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

T = "/customer-segment/acme/segments"
SEGMENTS = ("mine", "mine-b2b", "inactive-mine", "others")


def read_requests(segment_id: str) -> dict[str, tuple[str, str, dict | None]]:
    """Every read operation on one segment: name → (method, path, body)."""
    return {
        "customers": ("get", f"{T}/{segment_id}/customers", None),
        "customers/search": ("post", f"{T}/{segment_id}/customers/search", {}),
        "customers/{c}": ("get", f"{T}/{segment_id}/customers/me", None),
        "customers/{c}/{le}": ("get", f"{T}/{segment_id}/customers/me/le1", None),
        "items": ("get", f"{T}/{segment_id}/items", None),
        "items/search": ("post", f"{T}/{segment_id}/items/search", {}),
        "items/{type}/{id}": ("get", f"{T}/{segment_id}/items/product/p-{segment_id}", None),
    }


GLOBAL_READS = {
    "segments/items": ("get", f"{T}/items", None),
    "category-trees": ("get", f"{T}/items/category-trees", None),
}


def call(client, method: str, path: str, body):
    if method == "post":
        return client.post(path, body, format="json")
    return client.get(path)


@pytest.fixture
def world(tenant):
    """Four segments with one product and one category each, and who is in them."""
    company = make_legal_entity(tenant, "le1")
    # "me" buys for two companies, so a legal entity narrows what counts for them.
    me = make_customer(tenant, "me", legal_entities=[company, make_legal_entity(tenant, "le2")])
    someone = make_customer(tenant, "someone", legal_entities=[company])
    segments = {
        segment_id: make_segment(
            tenant,
            segment_id,
            status=SegmentStatus.INACTIVE if segment_id == "inactive-mine" else "ACTIVE",
        )
        for segment_id in SEGMENTS
    }
    for segment_id, segment in segments.items():
        assign_product(segment, make_product(tenant, f"p-{segment_id}"))
        assign_category(segment, make_category(tenant, f"cat-{segment_id}"))
        assign_customer(segment, someone)
        assign_customer(segment, someone, company)
    assign_customer(segments["mine"], me)
    assign_customer(segments["mine-b2b"], me, company)
    assign_customer(segments["inactive-mine"], me)
    assign_customer(segments["inactive-mine"], me, company)
    return segments


@pytest.mark.django_db
class TestManageScope:
    @pytest.mark.parametrize("segment_id", SEGMENTS)
    def test_manage_alone_reads_nothing(self, world, manage_client, segment_id):
        for name, (method, path, body) in {**read_requests(segment_id), **GLOBAL_READS}.items():
            response = call(manage_client, method, path, body)
            assert response.status_code == 403, name
            assert response.json()["code"] == 403


@pytest.mark.django_db
class TestReadScope:
    @pytest.mark.parametrize("segment_id", SEGMENTS)
    def test_read_sees_every_segment(self, world, read_client, segment_id):
        requests = read_requests(segment_id)
        expected = {
            "customers": 200,
            "customers/search": 200,
            # `me` holds a B2C assignment in mine and inactive-mine, a B2B one in mine-b2b
            # and inactive-mine.
            "customers/{c}": 200 if segment_id in ("mine", "inactive-mine") else 404,
            "customers/{c}/{le}": 200 if segment_id in ("mine-b2b", "inactive-mine") else 404,
            "items": 200,
            "items/search": 200,
            "items/{type}/{id}": 200,
        }
        for name, (method, path, body) in requests.items():
            assert call(read_client, method, path, body).status_code == expected[name], name

    def test_read_lists_every_assignment(self, world, read_client):
        body = read_client.get(f"{T}/mine/customers").json()
        assert [(a["customer"]["id"], a.get("legalEntity", {}).get("id")) for a in body] == [
            ("me", None),
            ("someone", None),
            ("someone", "le1"),
        ]
        assert len(read_client.get(f"{T}/items").json()) == 8

    def test_read_cannot_ask_for_category_trees(self, world, read_client):
        assert read_client.get(f"{T}/items/category-trees").status_code == 403


@pytest.mark.django_db
class TestReadOwnScope:
    @pytest.fixture
    def me(self, make_client):
        return make_client("acme", READ_OWN, customer="me")

    def test_own_effective_segments_are_readable(self, world, me):
        for segment_id in ("mine", "mine-b2b"):
            requests = read_requests(segment_id)
            for name in ("customers", "items", "items/search", "items/{type}/{id}"):
                method, path, body = requests[name]
                assert call(me, method, path, body).status_code == 200, (segment_id, name)

    @pytest.mark.parametrize("segment_id", ["inactive-mine", "others", "no-such-segment"])
    def test_other_segments_are_404_never_403(self, world, me, segment_id):
        requests = read_requests(segment_id)
        for name in ("customers", "items", "items/search", "items/{type}/{id}"):
            method, path, body = requests[name]
            response = call(me, method, path, body)
            assert response.status_code == 404, name
            assert response.json()["message"] == (
                f"The segment with id {segment_id} has not been found."
            )

    @pytest.mark.parametrize("name", ["customers/search", "customers/{c}", "customers/{c}/{le}"])
    def test_read_only_operations_are_403(self, world, me, name):
        method, path, body = read_requests("mine")[name]
        assert call(me, method, path, body).status_code == 403

    def test_the_customer_list_shows_only_its_own_assignments(self, world, me):
        body = me.get(f"{T}/mine/customers").json()
        assert [(a["customer"]["id"], a.get("legalEntity")) for a in body] == [("me", None)]
        body = me.get(f"{T}/mine-b2b/customers").json()
        assert [(a["customer"]["id"], a["legalEntity"]["id"]) for a in body] == [("me", "le1")]

    def test_items_of_all_segments_are_only_its_own(self, world, me):
        body = me.get(f"{T}/items", {"onlyActive": "false"}).json()
        assert [(a["segmentId"], a["item"]["id"]) for a in body] == [
            ("mine", "cat-mine"),
            ("mine", "p-mine"),
            ("mine-b2b", "cat-mine-b2b"),
            ("mine-b2b", "p-mine-b2b"),
        ]

    def test_category_trees_are_its_own(self, world, me):
        body = me.get(f"{T}/items/category-trees").json()
        assert [n["id"] for n in body] == ["cat-mine", "cat-mine-b2b"]

    def test_a_read_scope_on_a_customer_token_does_not_widen_it(self, world, make_client):
        client = make_client("acme", READ, READ_OWN, customer="me")
        assert client.get(f"{T}/others/items").status_code == 404
        assert len(client.get(f"{T}/items").json()) == 4
        body = client.get(f"{T}/mine/customers/someone").json()
        assert body["code"] == 404

    def test_without_a_customer_in_the_token_everything_is_403(self, world, make_client):
        client = make_client("acme", READ_OWN)
        for name, (method, path, body) in {**read_requests("mine"), **GLOBAL_READS}.items():
            assert call(client, method, path, body).status_code == 403, name


@pytest.mark.django_db
class TestReadOwnWithLegalEntity:
    @pytest.fixture
    def me_for_le1(self, make_client):
        return make_client("acme", READ_OWN, customer="me", legal_entity="le1")

    def test_only_segments_of_that_legal_entity(self, world, me_for_le1):
        assert me_for_le1.get(f"{T}/mine-b2b/items").status_code == 200
        assert me_for_le1.get(f"{T}/mine/items").status_code == 404
        body = me_for_le1.get(f"{T}/items").json()
        assert {a["segmentId"] for a in body} == {"mine-b2b"}
        trees = me_for_le1.get(f"{T}/items/category-trees").json()
        assert [n["id"] for n in trees] == ["cat-mine-b2b"]

    def test_the_customer_list_shows_its_assignment_for_that_legal_entity(self, world, me_for_le1):
        body = me_for_le1.get(f"{T}/mine-b2b/customers").json()
        assert [(a["customer"]["id"], a["legalEntity"]["id"]) for a in body] == [("me", "le1")]

    def test_the_query_cannot_override_the_tokens_legal_entity(self, world, me_for_le1):
        body = me_for_le1.get(f"{T}/items", {"legalEntityId": "other"}).json()
        assert {a["segmentId"] for a in body} == {"mine-b2b"}
        assert me_for_le1.get(f"{T}/mine-b2b/items", {"legalEntityId": "x"}).status_code == 200


@pytest.mark.django_db
class TestOtherTenant:
    @pytest.mark.parametrize(
        "scopes", [(READ,), (READ_OWN,), (MANAGE, READ)], ids=["read", "own", "all"]
    )
    def test_another_tenants_tokens_read_nothing(self, world, other_tenant, make_client, scopes):
        client = make_client(other_tenant, *scopes, customer="me" if READ_OWN in scopes else None)
        for name, (method, path, body) in {**read_requests("mine"), **GLOBAL_READS}.items():
            response = call(client, method, path, body)
            assert response.status_code == 403, name
            assert response.json()["code"] == 403


@pytest.mark.django_db
class TestSegmentLists:
    """The segment reads, seen through the same matrix (SPEC §5: customerId, legalEntityId)."""

    def ids(self, response) -> list[str]:
        assert response.status_code == 200, response.content
        return [s["id"] for s in response.json()]

    def test_read_sees_all_and_customer_id_narrows(self, world, read_client):
        assert self.ids(read_client.get(T)) == sorted(SEGMENTS)
        assert self.ids(read_client.get(T, {"customerId": "me"})) == [
            "inactive-mine",
            "mine",
            "mine-b2b",
        ]
        assert self.ids(read_client.get(T, {"customerId": "me", "legalEntityId": "le1"})) == [
            "inactive-mine",
            "mine-b2b",
        ]

    def test_a_customer_sees_its_effective_segments_whatever_it_asks(self, world, make_client):
        me = make_client("acme", READ_OWN, customer="me")
        assert self.ids(me.get(T)) == ["mine", "mine-b2b"]
        assert self.ids(me.get(T, {"customerId": "someone"})) == ["mine", "mine-b2b"]
        assert self.ids(me.post(f"{T}/search", {}, format="json")) == ["mine", "mine-b2b"]
        assert me.get(f"{T}/mine").status_code == 200
        assert me.get(f"{T}/others").status_code == 404
        assert me.get(f"{T}/inactive-mine").status_code == 404

    def test_a_customer_acting_for_a_legal_entity(self, world, make_client):
        me = make_client("acme", READ_OWN, customer="me", legal_entity="le1")
        assert self.ids(me.get(T)) == ["mine-b2b"]

    def test_a_legal_entity_does_not_narrow_a_customer_of_only_one(
        self, world, tenant, make_client, read_client
    ):
        solo = make_customer(tenant, "solo", legal_entities=[make_legal_entity(tenant, "le9")])
        assign_customer(world["mine"], solo)
        assign_customer(world["mine-b2b"], solo, solo.legal_entities.get())
        expected = ["mine", "mine-b2b"]
        assert self.ids(read_client.get(T, {"customerId": "solo"})) == expected
        assert (
            self.ids(read_client.get(T, {"customerId": "solo", "legalEntityId": "le9"})) == expected
        )
        token = make_client("acme", READ_OWN, customer="solo", legal_entity="le9")
        assert self.ids(token.get(T)) == expected
        assert token.get(f"{T}/mine/items").status_code == 200

    def test_manage_alone_and_other_tenants_read_no_segments(
        self, world, manage_client, other_tenant, make_client
    ):
        assert manage_client.get(T).status_code == 403
        assert make_client(other_tenant, READ).get(T).status_code == 403
