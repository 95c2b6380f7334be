"""The storefront's hot reads cost the same with rules in the tenant as without (SPEC §12,
issue 12): rule-made memberships are assignment rows like any other, so a customer's
segments, `/segments/me`, items, category trees and match read no rule."""

from __future__ import annotations

import pytest

from segments.services.rules import RuleInput, rule_upsert
from tests.conftest import MANAGE, READ_OWN
from tests.factories import (
    assign_category,
    assign_customer,
    assign_product,
    make_category,
    make_customer,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries

pytestmark = pytest.mark.django_db

T = "/customer-segment/acme/segments"


@pytest.mark.parametrize("rules", [0, 1, 7])
def test_customer_reads_and_match_read_no_rule(tenant, make_client, rules):
    carol_row = make_customer(tenant, "carol", attributes={"tier": "gold"})
    make_customer(tenant, "dave", attributes={"tier": "silver"})
    segments = []
    for n in range(8):
        segment = make_segment(tenant, f"s{n}")
        assign_product(segment, make_product(tenant, f"p{n}"))
        assign_category(segment, make_category(tenant, f"c{n}"))
        segments.append(segment.external_id)
        if n < rules:
            rule_upsert(
                tenant=tenant,
                segment_id=segment.external_id,
                data=RuleInput("attributes.tier:gold", "B2C", True),
            )
    assign_customer(make_segment(tenant, "by-hand"), carol_row)  # a member of one, at least
    expected = sorted([*segments[:rules], "by-hand"])
    carol = make_client("acme", READ_OWN, customer="carol")

    listed = assert_same_queries("segments.list.customer", status=200)(lambda: carol.get(T))
    assert sorted(row["id"] for row in listed.json()) == expected
    me = assert_same_queries("segments.me", status=200)(lambda: carol.get(f"{T}/me"))
    assert sorted(row["id"] for row in me.json()) == expected
    items = assert_same_queries("items.all.customer", status=200)(lambda: carol.get(f"{T}/items"))
    assert len(items.json()) == 2 * rules
    trees = assert_same_queries("category_trees.get", status=200)(
        lambda: carol.get(f"{T}/items/category-trees")
    )
    assert len(trees.json()) == rules
    body = {
        "siteCode": "main",
        "items": [{"id": f"p{n}"} for n in range(8)],
        "segmentIds": segments,
    }
    matched = assert_same_queries("match", status=200)(
        lambda: make_client(tenant, MANAGE).post(f"{T}/match", body, format="json")
    )
    assert len(matched.json()) == 8
