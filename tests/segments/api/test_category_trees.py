"""`GET /segments/items/category-trees`: a customer's assigned categories as nested trees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from segments.choices import SegmentStatus
from segments.models import Category, Customer, Segment
from tests.conftest import MANAGE, READ, READ_OWN
from tests.factories import (
    assign_category,
    assign_customer,
    make_category,
    make_customer,
    make_legal_entity,
    make_segment,
)
from tests.querycounts import assert_same_queries
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments/items/category-trees"


def shape(nodes: list[dict]) -> list:
    """(id, isSegmentAssigned, children) per node, for comparing structure."""
    return [
        (n["id"], n["isSegmentAssigned"], shape(n["subcategories"]))
        if "subcategories" in n
        else (n["id"], n["isSegmentAssigned"])
        for n in nodes
    ]


@pytest.fixture
def tree(tenant):
    """A four-level catalogue, assignments at levels 2, 3 and 4, and decoys.

    garden(0) > garden-tools(0) > shovels(0)* > spades(0)
    tools(1)  > saws(0)
              > hammers(1)* > claw(0)
                            > sledgehammers(1) > heavy(0)*
    electrics(2) > cables(0)
    (* assigned to one of the customer's effective segments)
    """
    c = {}

    def category(external_id, parent=None, position=0, **fields):
        c[external_id] = make_category(
            tenant,
            external_id,
            parent=c.get(parent),
            position=position,
            code=external_id.upper(),
            name={"en": external_id.title()},
            **fields,
        )

    category("garden", position=0)
    category("garden-tools", "garden")
    category("shovels", "garden-tools")
    category("spades", "shovels")
    category("tools", position=1)
    category("saws", "tools", 0)
    category(
        "hammers",
        "tools",
        1,
        description={"en": "Hammers of all kinds.", "de": "Hämmer aller Art."},
        slug={"en": "hammers", "de": "haemmer"},
        ecn=["ECN-1", "ECN-2"],
        valid_from=datetime(2024, 4, 17, 8, tzinfo=UTC),
        valid_to=datetime(2026, 4, 17, 8, tzinfo=UTC),
    )
    category("claw", "hammers", 0, published=False)
    category("sledgehammers", "hammers", 1)
    category("heavy", "sledgehammers", 0)
    category("electrics", position=2)
    category("cables", "electrics")
    c["hammers"].name = {"en": "Hammers", "de": "Hämmer"}
    c["hammers"].save()

    customer = make_customer(tenant, "me")
    gold = make_segment(tenant, "gold")
    silver = make_segment(tenant, "silver", site_code="de")
    assign_customer(gold, customer)
    assign_customer(silver, customer)
    assign_category(gold, c["hammers"])
    assign_category(silver, c["heavy"])
    assign_category(silver, c["shovels"])

    # Decoys: an inactive segment of the customer, and a segment of someone else.
    inactive = make_segment(tenant, "inactive", status=SegmentStatus.INACTIVE)
    assign_customer(inactive, customer)
    assign_category(inactive, c["cables"])
    theirs = make_segment(tenant, "theirs")
    assign_customer(theirs, make_customer(tenant, "someone-else"))
    assign_category(theirs, c["saws"])
    return c


@pytest.fixture
def me(make_client):
    return make_client("acme", READ_OWN, customer="me")


@pytest.mark.django_db
class TestTrees:
    def test_assigned_categories_with_descendants_and_ancestors_nested_by_position(self, tree, me):
        response = me.get(URL)
        assert response.status_code == 200
        body = response.json()
        assert_matches(body, "CategoryTreeResponse")
        assert shape(body) == [
            (
                "garden",
                False,
                [("garden-tools", False, [("shovels", True, [("spades", True)])])],
            ),
            (
                "tools",
                False,
                [
                    (
                        "hammers",
                        True,
                        [("claw", True), ("sledgehammers", True, [("heavy", True)])],
                    )
                ],
            ),
        ]

    def test_nodes_carry_the_yaml_fields(self, tree, me):
        tools = me.get(URL).json()[1]
        hammers = tools["subcategories"][0]
        claw, sledgehammers = hammers["subcategories"]
        assert {k: v for k, v in tools.items() if k != "subcategories"} == {
            "id": "tools",
            "code": "TOOLS",
            "name": {"en": "Tools"},
            "position": 1,
            "published": True,
            "isSegmentAssigned": False,
        }
        assert {k: v for k, v in hammers.items() if k != "subcategories"} == {
            "id": "hammers",
            "parentId": "tools",
            "code": "HAMMERS",
            "name": {"en": "Hammers", "de": "Hämmer"},
            "localizedDescription": {"en": "Hammers of all kinds.", "de": "Hämmer aller Art."},
            "localizedSlug": {"en": "hammers", "de": "haemmer"},
            "ecn": ["ECN-1", "ECN-2"],
            "validity": {"from": "2024-04-17T08:00:00.000Z", "to": "2026-04-17T08:00:00.000Z"},
            "position": 1,
            "published": True,
            "isSegmentAssigned": True,
        }
        assert claw == {
            "id": "claw",
            "parentId": "hammers",
            "code": "CLAW",
            "name": {"en": "Claw"},
            "position": 0,
            "published": False,
            "isSegmentAssigned": True,
        }
        assert sledgehammers["subcategories"][0]["parentId"] == "sledgehammers"

    def test_accept_language_gives_plain_strings(self, tree, me):
        tools = me.get(URL, HTTP_ACCEPT_LANGUAGE="de-DE, en;q=0.5").json()[1]
        hammers = tools["subcategories"][0]
        assert tools["name"] == "Tools"  # no German name: falls back along the list
        assert hammers["name"] == "Hämmer"
        assert hammers["localizedDescription"] == "Hämmer aller Art."
        assert hammers["localizedSlug"] == "haemmer"

    def test_site_code_keeps_that_sites_segments(self, tree, me):
        assert shape(me.get(URL, {"siteCode": "main"}).json()) == [
            (
                "tools",
                False,
                [
                    (
                        "hammers",
                        True,
                        [("claw", True), ("sledgehammers", True, [("heavy", True)])],
                    )
                ],
            )
        ]
        # On site "de" the heavy hammers hang from their ancestors, not segment-assigned.
        assert shape(me.get(URL, {"siteCode": "de"}).json())[1] == (
            "tools",
            False,
            [("hammers", False, [("sledgehammers", False, [("heavy", True)])])],
        )
        assert me.get(URL, {"siteCode": "nowhere"}).json() == []

    def test_a_customer_without_category_assignments_gets_an_empty_list(
        self, tree, tenant, make_client
    ):
        make_customer(tenant, "new")
        response = make_client("acme", READ_OWN, customer="new").get(URL)
        assert response.status_code == 200
        assert response.json() == []

    def test_out_of_validity_segments_do_not_count(self, tree, tenant, me):
        Segment.objects.filter(external_id="gold").update(valid_to=datetime(2020, 1, 1, tzinfo=UTC))
        assert [n["id"] for n in me.get(URL).json()] == ["garden", "tools"]
        assert shape(me.get(URL).json())[1] == (
            "tools",
            False,
            [("hammers", False, [("sledgehammers", False, [("heavy", True)])])],
        )

    def test_the_legal_entity_narrows_to_its_segments(self, tenant, make_client):
        company = make_legal_entity(tenant, "le1")
        other = make_legal_entity(tenant, "le2")
        buyer = make_customer(tenant, "buyer", legal_entities=[company, other])
        for segment_id, legal_entity in (("s1", company), ("s2", other)):
            segment = make_segment(tenant, segment_id)
            assign_customer(segment, buyer, legal_entity)
            assign_category(segment, make_category(tenant, f"cat-{segment_id}"))
        client = make_client("acme", READ_OWN, customer="buyer", legal_entity="le2")
        assert [n["id"] for n in client.get(URL).json()] == ["cat-s2"]
        client = make_client("acme", READ_OWN, customer="buyer")
        assert [n["id"] for n in client.get(URL, {"legalEntityId": "le1"}).json()] == ["cat-s1"]

    def test_a_parent_cycle_in_bad_data_does_not_hang(self, tenant, me, tree):
        # garden-tools <-> shovels: the cycle has no root, so that tree cannot be shown.
        Category.objects.filter(external_id="garden-tools").update(parent=tree["shovels"])
        response = me.get(URL)
        assert response.status_code == 200
        assert [n["id"] for n in response.json()] == ["tools"]

    def test_queries_do_not_grow_with_the_tree(self, tenant, me, tree):
        # Token's tenant, then one query for the whole forest.
        check = assert_same_queries("category_trees.get", status=200)
        check(lambda: me.get(URL))
        segment = make_segment(tenant, "big")
        assign_customer(segment, Customer.objects.get(tenant=tenant, external_id="me"))
        parent = None
        for n in range(30):
            parent = make_category(tenant, f"deep{n:02d}", parent=parent)
            if n % 5 == 0:
                assign_category(segment, parent)
        body = check(lambda: me.get(URL)).json()
        assert [n["id"] for n in body] == ["deep00", "garden", "tools"]
        depth, node = 1, body[0]
        while "subcategories" in node:
            depth, node = depth + 1, node["subcategories"][0]
        assert depth == 30


@pytest.mark.django_db
class TestWhoMayAsk:
    @pytest.mark.parametrize("scopes", [(READ,), (MANAGE,), (MANAGE, READ)])
    def test_only_a_customer_token_may_ask(self, tree, make_client, scopes):
        response = make_client("acme", *scopes).get(URL)
        assert response.status_code == 403
        assert response.json()["code"] == 403

    def test_a_read_own_token_without_a_customer_is_403(self, tree, make_client):
        assert make_client("acme", READ_OWN).get(URL).status_code == 403

    def test_another_tenants_customer_token_is_403(self, tree, other_tenant, make_client):
        response = make_client(other_tenant, READ_OWN, customer="me").get(URL)
        assert response.status_code == 403

    def test_another_tenants_assignments_stay_there(self, tree, other_tenant, make_client):
        their_root = make_category(other_tenant, "their-root")
        theirs = make_segment(other_tenant, "gold")
        assign_customer(theirs, make_customer(other_tenant, "me"))
        assign_category(theirs, their_root)
        client = make_client(other_tenant, READ_OWN, customer="me")
        body = client.get("/customer-segment/globex/segments/items/category-trees").json()
        assert shape(body) == [("their-root", True)]
