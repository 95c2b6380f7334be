"""POST /segments/match: direct and category-tree matches of effective segments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from segments.models import Category
from tests.conftest import MANAGE, READ
from tests.factories import (
    assign_category,
    assign_product,
    make_category,
    make_product,
    make_segment,
)
from tests.querycounts import assert_same_queries
from tests.schema import assert_matches

URL = "/customer-segment/acme/segments/match"


@pytest.fixture
def client(tenant, make_client):
    """A client with segment_manage, which match needs."""
    return make_client(tenant, MANAGE)


@pytest.fixture
def tree(tenant):
    """Tools > Hammers > Sledgehammers, and a sibling Saws under Tools."""
    tools = make_category(tenant, "tools")
    hammers = make_category(tenant, "hammers", parent=tools)
    sledges = make_category(tenant, "sledges", parent=hammers)
    saws = make_category(tenant, "saws", parent=tools)
    return {"tools": tools, "hammers": hammers, "sledges": sledges, "saws": saws}


def match(client, items, segment_ids, site="main", key="siteCode"):
    body = {key: site, "items": [{"id": i} for i in items], "segmentIds": segment_ids}
    return client.post(URL, body, format="json")


@pytest.mark.django_db
class TestMatch:
    def test_direct_product_assignment_matches(self, client, tenant):
        segment = make_segment(tenant, "s1")
        assign_product(segment, make_product(tenant, "p1"))
        make_product(tenant, "p2")
        response = match(client, ["p1", "p2"], ["s1"])
        assert response.status_code == 200
        assert response.json() == [{"id": "p1"}]
        assert_matches(response.json(), "MatchItem", array=True)

    @pytest.mark.parametrize("assigned", ["tools", "hammers", "sledges"])
    def test_a_product_in_a_descendant_of_an_assigned_category_matches(
        self, client, tenant, tree, assigned
    ):
        assign_category(make_segment(tenant, "s1"), tree[assigned])
        make_product(tenant, "deep", categories=[tree["sledges"]])
        assert match(client, ["deep"], ["s1"]).json() == [{"id": "deep"}]

    def test_categories_beside_or_below_the_product_do_not_match(self, client, tenant, tree):
        segment = make_segment(tenant, "s1")
        assign_category(segment, tree["saws"])
        assign_category(segment, tree["sledges"])
        make_product(tenant, "hammer", categories=[tree["hammers"]])
        make_product(tenant, "unfiled")
        assert match(client, ["hammer", "unfiled"], ["s1"]).json() == []

    def test_one_of_several_categories_is_enough(self, client, tenant, tree):
        assign_category(make_segment(tenant, "s1"), tree["saws"])
        other = make_category(tenant, "other")
        make_product(tenant, "p", categories=[other, tree["saws"]])
        assert match(client, ["p"], ["s1"]).json() == [{"id": "p"}]

    def test_request_order_is_kept_without_duplicates(self, client, tenant, tree):
        segment = make_segment(tenant, "s1")
        assign_category(segment, tree["tools"])
        for product_id in ("a", "b", "c"):
            make_product(tenant, product_id, categories=[tree["hammers"]])
        make_product(tenant, "d")
        response = match(client, ["c", "missing", "a", "d", "c", "b", "a"], ["s1", "s1"])
        assert response.json() == [{"id": "c"}, {"id": "a"}, {"id": "b"}]

    @pytest.mark.parametrize(
        "segment_fields",
        [
            {"status": "INACTIVE"},
            {"valid_to": timezone.now() - timedelta(days=1)},
            {"valid_from": timezone.now() + timedelta(days=1)},
            {"site_code": "outlet"},
        ],
        ids=["inactive", "expired", "not-yet-valid", "other-site"],
    )
    def test_only_effective_segments_of_the_site_count(self, client, tenant, tree, segment_fields):
        segment = make_segment(tenant, "s1", **segment_fields)
        assign_product(segment, make_product(tenant, "p1"))
        assign_category(segment, tree["tools"])
        make_product(tenant, "p2", categories=[tree["sledges"]])
        assert match(client, ["p1", "p2"], ["s1"]).json() == []

    def test_a_validity_window_around_now_is_effective(self, client, tenant):
        now = timezone.now()
        segment = make_segment(
            tenant, "s1", valid_from=now - timedelta(hours=1), valid_to=now + timedelta(hours=1)
        )
        assign_product(segment, make_product(tenant, "p1"))
        assert match(client, ["p1"], ["s1"]).json() == [{"id": "p1"}]

    def test_only_the_named_segments_count(self, client, tenant):
        assign_product(make_segment(tenant, "s1"), make_product(tenant, "p1"))
        make_segment(tenant, "s2")
        assert match(client, ["p1"], ["s2", "unknown"]).json() == []

    def test_site_is_accepted_for_site_code(self, client, tenant):
        assign_product(make_segment(tenant, "s1"), make_product(tenant, "p1"))
        assert match(client, ["p1"], ["s1"], key="site").json() == [{"id": "p1"}]

    def test_empty_lists_match_nothing(self, client, tenant):
        assert match(client, [], ["s1"]).json() == []
        assert match(client, ["p1"], []).json() == []

    def test_a_cycle_in_the_category_tree_does_not_hang(self, client, tenant, tree):
        Category.objects.filter(pk=tree["tools"].pk).update(parent=tree["sledges"])
        assign_category(make_segment(tenant, "s1"), tree["saws"])
        make_product(tenant, "p", categories=[tree["hammers"]])
        assert match(client, ["p"], ["s1"]).json() == []

    def test_another_tenants_data_never_matches(self, client, tenant, other_tenant):
        theirs = make_segment(other_tenant, "s1")
        assign_product(theirs, make_product(other_tenant, "p1"))
        make_segment(tenant, "s1")
        make_product(tenant, "p1")
        assert match(client, ["p1"], ["s1"]).json() == []

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            ({"items": [], "segmentIds": []}, "siteCode: This field is required."),
            ({"siteCode": "main", "segmentIds": []}, "items: This field is required."),
            ({"siteCode": "main", "items": []}, "segmentIds: This field is required."),
            ({"siteCode": "main", "site": "b", "items": [], "segmentIds": []}, "site:"),
            ({"siteCode": "main", "items": [{"code": "x"}], "segmentIds": []}, "items.0.id:"),
            ({"siteCode": "main", "items": ["p1"], "segmentIds": []}, "items.0:"),
            ({"siteCode": "main", "items": [], "segmentIds": [1]}, "segmentIds"),
            ({"siteCode": "main", "items": {}, "segmentIds": []}, "items:"),
            ({"siteCode": 3, "items": [], "segmentIds": []}, "siteCode:"),
            ({"siteCode": "m", "items": [], "segmentIds": [], "extra": 1}, "extra: Unknown field."),
        ],
    )
    def test_missing_or_malformed_fields_are_400(self, client, tenant, body, problem):
        response = client.post(URL, body, format="json")
        assert response.status_code == 400
        assert problem in response.json()["message"]

    @pytest.mark.parametrize(
        ("item", "message"),
        [
            ({"code": "x"}, "items.0.id: This field is required."),
            ("p1", "items.0: Invalid data. Expected a dictionary, but got str."),
            ([1], "items.0: Invalid data. Expected a dictionary, but got list."),
            (None, "items.0: This field may not be null."),
            ({"id": 3}, "items.0.id: Not a valid string."),
            ({"id": None}, "items.0.id: This field may not be null."),
            ({"id": ""}, "items.0.id: This field may not be blank."),
            ({"id": "x" * 65}, "items.0.id: Ensure this field has no more than 64 characters."),
        ],
    )
    def test_a_bad_item_is_named_as_a_nested_item_serializer_names_it(
        self, client, tenant, item, message
    ):
        body = {"siteCode": "main", "items": [item], "segmentIds": []}
        response = client.post(URL, body, format="json")
        assert (response.status_code, response.json()["message"]) == (400, message)

    def test_more_than_1000_items_is_400(self, client, tenant):
        response = match(client, [f"p{n}" for n in range(1001)], ["s1"])
        assert response.status_code == 400
        assert response.json()["message"].startswith("items:")

    def test_needs_the_manage_scope(self, tenant, make_client):
        assert match(make_client(tenant, READ), ["p1"], ["s1"]).status_code == 403

    @pytest.mark.parametrize("size", [1, 500])
    def test_one_query_whatever_the_number_of_items_and_segments(self, client, tenant, tree, size):
        segment_ids = [make_segment(tenant, f"s{n}").external_id for n in range(min(size, 50))]
        segment = make_segment(tenant, "main-seg")
        assign_category(segment, tree["tools"])
        products = [
            make_product(tenant, f"p{n}", categories=[tree["sledges"]]) for n in range(size)
        ]
        # The tenant lookup and the match query, nothing per item or per segment.
        check = assert_same_queries("match", status=200)
        response = check(
            lambda: match(client, [p.external_id for p in products], [*segment_ids, "main-seg"])
        )
        assert len(response.json()) == size
