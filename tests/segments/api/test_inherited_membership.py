"""Inherited membership (SPEC §11): a customer in a group assigned to a segment belongs to it.

Checked on every read where the customer's segments count: customer-token reads of
segments, items and category trees, the `customerId` filter and `/segments/me`; a group
bound to a legal entity counts only while the customer acts for that legal entity, and
`/segments/{id}/customers` still lists assignment rows only. The query counts are those
of direct membership.
"""

from __future__ import annotations

import pytest

from segments.choices import SegmentStatus
from tests.conftest import READ, READ_OWN
from tests.factories import (
    assign_category,
    assign_customer,
    assign_group,
    assign_product,
    make_category,
    make_customer,
    make_group,
    make_legal_entity,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries

T = "/customer-segment/acme/segments"


@pytest.fixture
def world(tenant):
    """`alice` is directly in `direct`, through the unbound group `fans` in `via-group`,
    through `acme-buyers` (bound to le1) in `bound`; `inactive` is hers through `fans` too."""
    le1, le2 = make_legal_entity(tenant, "le1"), make_legal_entity(tenant, "le2")
    alice = make_customer(tenant, "alice", legal_entities=[le1, le2])
    bob = make_customer(tenant, "bob")
    fans = make_group(tenant, "fans", name={"en": "Fans"}, members=[alice])
    buyers = make_group(tenant, "acme-buyers", members=[alice], legal_entity=le1)
    segments = {
        segment_id: make_segment(
            tenant,
            segment_id,
            status=SegmentStatus.INACTIVE if segment_id == "inactive" else SegmentStatus.ACTIVE,
        )
        for segment_id in ("direct", "via-group", "bound", "inactive", "others")
    }
    assign_customer(segments["direct"], alice)
    assign_group(segments["via-group"], fans)
    assign_group(segments["bound"], buyers)
    assign_group(segments["inactive"], fans)
    assign_customer(segments["others"], bob)
    for segment_id, segment in segments.items():
        assign_product(segment, make_product(tenant, f"p-{segment_id}"))
        assign_category(segment, make_category(tenant, f"c-{segment_id}", position=len(segment_id)))
    return segments


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


@pytest.mark.django_db
class TestCustomerToken:
    def test_segments_count_groups_and_only_unbound_ones_without_a_legal_entity(
        self, world, make_client
    ):
        alice = make_client("acme", READ_OWN, customer="alice")
        assert ids(alice.get(T)) == ["direct", "via-group"]
        assert ids(alice.post(f"{T}/search", {}, format="json")) == ["direct", "via-group"]
        assert alice.get(f"{T}/via-group").status_code == 200
        assert alice.get(f"{T}/bound").status_code == 404

    def test_a_bound_group_counts_while_the_token_acts_for_its_legal_entity(
        self, world, make_client
    ):
        for_le1 = make_client("acme", READ_OWN, customer="alice", legal_entity="le1")
        for_le2 = make_client("acme", READ_OWN, customer="alice", legal_entity="le2")
        # Acting for le1 narrows alice's direct (B2C) assignment away: she has two legal
        # entities (customer_context_q); the groups are hers as member, not per assignment.
        assert ids(for_le1.get(T)) == ["bound", "via-group"]
        assert ids(for_le2.get(T)) == ["via-group"]

    def test_a_bound_group_counts_with_the_legal_entity_parameter(self, world, make_client):
        alice = make_client("acme", READ_OWN, customer="alice")
        assert ids(alice.get(T, {"legalEntityId": "le1"})) == ["bound", "via-group"]
        # The token's legal entity wins over the parameter.
        for_le2 = make_client("acme", READ_OWN, customer="alice", legal_entity="le2")
        assert ids(for_le2.get(T, {"legalEntityId": "le1"})) == ["via-group"]

    def test_items_and_their_reads_count_groups(self, world, make_client):
        alice = make_client("acme", READ_OWN, customer="alice")
        items = alice.get(f"{T}/items").json()
        assert sorted(row["segmentId"] for row in items) == ["direct"] * 2 + ["via-group"] * 2
        assert alice.get(f"{T}/via-group/items").status_code == 200
        assert alice.get(f"{T}/via-group/items/product/p-via-group").status_code == 200
        assert alice.get(f"{T}/bound/items").status_code == 404

    def test_category_trees_count_groups(self, world, make_client):
        alice = make_client("acme", READ_OWN, customer="alice", legal_entity="le1")
        trees = alice.get(f"{T}/items/category-trees")
        assert trees.status_code == 200
        assert sorted(node["id"] for node in trees.json()) == ["c-bound", "c-via-group"]

    def test_customers_of_a_segment_list_assignment_rows_only(self, world, make_client):
        reader = make_client("acme", READ)
        assert reader.get(f"{T}/via-group/customers").json() == []
        alice = make_client("acme", READ_OWN, customer="alice")
        assert alice.get(f"{T}/via-group/customers").json() == []

    def test_a_member_of_no_group_sees_only_its_own(self, world, make_client):
        bob = make_client("acme", READ_OWN, customer="bob")
        assert ids(bob.get(T)) == ["others"]

    @pytest.mark.parametrize("groups", [1, 8])
    def test_the_queries_are_those_of_direct_membership(self, tenant, make_client, groups):
        carol = make_customer(tenant, "carol")
        for n in range(groups):
            segment = make_segment(tenant, f"s{n}")
            assign_group(segment, make_group(tenant, f"g{n}", members=[carol]))
            assign_product(segment, make_product(tenant, f"p{n}"))
            assign_category(segment, make_category(tenant, f"c{n}"))
        carol_client = make_client("acme", READ_OWN, customer="carol")
        response = assert_same_queries("segments.list.customer", status=200)(
            lambda: carol_client.get(T)
        )
        assert len(response.json()) == groups
        assert_same_queries("items.all.customer", status=200)(
            lambda: carol_client.get(f"{T}/items")
        )
        trees = assert_same_queries("category_trees.get", status=200)(
            lambda: carol_client.get(f"{T}/items/category-trees")
        )
        assert len(trees.json()) == groups


@pytest.mark.django_db
class TestCustomerIdFilter:
    def test_customer_id_counts_groups(self, world, make_client):
        reader = make_client("acme", READ)
        # Inactive segments count for a reader's filter: effectiveness is the token's rule.
        assert ids(reader.get(T, {"customerId": "alice"})) == ["direct", "inactive", "via-group"]
        assert ids(reader.get(T, {"customerId": "alice", "legalEntityId": "le1"})) == [
            "bound",
            "inactive",
            "via-group",
        ]
        assert ids(reader.get(T, {"customerId": "bob"})) == ["others"]


@pytest.mark.django_db
class TestGroupChanges:
    def test_leaving_a_group_leaves_its_segments(self, world, tenant, make_client):
        from segments.models import GroupMember

        GroupMember.objects.filter(group__external_id="fans").delete()
        alice = make_client("acme", READ_OWN, customer="alice")
        assert ids(alice.get(T)) == ["direct"]

    def test_another_tenants_group_of_the_same_ids_counts_nothing(
        self, world, other_tenant, make_client
    ):
        theirs = make_customer(other_tenant, "alice")
        group = make_group(other_tenant, "fans", members=[theirs])
        assign_group(make_segment(other_tenant, "direct"), group)
        alice = make_client("acme", READ_OWN, customer="alice")
        assert ids(alice.get(T)) == ["direct", "via-group"]
