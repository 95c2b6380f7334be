"""Force-deleting a segment with a rule takes the rule and its exclusions with it.

Found by the fuzzer: the segment's row went with a plain DELETE, its rule stayed, and the
commit failed on the rule's foreign key (a 500).
"""

import pytest

from segments.models import RuleExclusion, Segment, SegmentRule
from tenants.choices import Scope
from tests.factories import (
    assign_customer,
    assign_group,
    assign_product,
    make_customer,
    make_group,
    make_product,
    make_segment,
)

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/customer-segment/acme/segments"
RULE = {"assign": "B2C", "enabled": True}


@pytest.fixture
def client(tenant, make_client):
    return make_client(tenant, Scope.SEGMENT_MANAGE.value, Scope.SEGMENT_READ.value)


@pytest.mark.parametrize("bulk", [False, True])
def test_force_deleting_a_segment_with_a_rule_and_exclusions_commits(tenant, client, bulk):
    make_customer(tenant, "c1")
    make_customer(tenant, "c2")
    make_segment(tenant, "silver")
    assert (
        client.put(f"{BASE}/silver/rule", {"q": "id:(c1,c2)", **RULE}, format="json").status_code
        == 201
    )
    assert client.delete(f"{BASE}/silver/customers/c2").status_code == 204  # an exclusion
    assert RuleExclusion.objects.filter(tenant=tenant).count() == 1

    if bulk:
        response = client.delete(f"{BASE}/bulk?forceDelete=true", ["silver"], format="json")
        assert response.status_code == 207
        assert response.json() == [{"index": 1, "id": "silver", "code": 204, "status": "OK"}]
    else:
        assert client.delete(f"{BASE}/silver?forceDelete=true").status_code == 204

    assert not SegmentRule.objects.filter(tenant=tenant).exists()
    assert not RuleExclusion.objects.filter(tenant=tenant).exists()
    assert client.get(f"{BASE}/silver").status_code == 404


def test_a_rule_reading_a_deleted_segment_keeps_working_and_matches_nobody_through_it(
    tenant, client
):
    c1 = make_customer(tenant, "c1")
    make_customer(tenant, "c2")
    silver = make_segment(tenant, "silver")
    make_segment(tenant, "gold")
    assign_customer(silver, c1)
    body = {"q": "segments.id:silver", **RULE}
    assert client.put(f"{BASE}/gold/rule", body, format="json").status_code == 201
    assert client.get(f"{BASE}/gold/rule").json()["memberCount"] == 1

    assert client.delete(f"{BASE}/silver?forceDelete=true").status_code == 204
    assert client.put(f"{BASE}/gold/customers/c2").status_code == 201

    rule = client.get(f"{BASE}/gold/rule")
    assert rule.status_code == 200
    assert rule.json()["memberCount"] == 1  # c2, by hand; c1 went with silver


@pytest.mark.parametrize("bulk", [False, True])
def test_force_delete_removes_every_row_that_points_at_the_segment(tenant, client, bulk):
    """Every model with a foreign key to Segment gets a row here, then none after the delete.

    A new model pointing at segments fails the first assertion until it is added to this
    setup, and then the delete itself if `_delete` does not remove its rows (a 500 at commit).
    """
    customer = make_customer(tenant, "c1")
    make_customer(tenant, "c2")
    silver = make_segment(tenant, "silver")
    assign_customer(silver, customer)
    assign_product(silver, make_product(tenant, "p1"))
    assign_group(silver, make_group(tenant, "g1"))
    body = {"q": "id:(c1,c2)", **RULE}
    assert client.put(f"{BASE}/silver/rule", body, format="json").status_code == 201
    assert client.delete(f"{BASE}/silver/customers/c2").status_code == 204  # an exclusion

    dependents = [rel.related_model for rel in Segment._meta.related_objects]
    assert dependents, "Segment has no dependents to check"
    for model in dependents:
        assert model.objects.filter(segment=silver).exists(), f"no {model.__name__} in setup"

    if bulk:
        response = client.delete(f"{BASE}/bulk?forceDelete=true", ["silver"], format="json")
        assert response.status_code == 207
        assert response.json() == [{"index": 1, "id": "silver", "code": 204, "status": "OK"}]
    else:
        assert client.delete(f"{BASE}/silver?forceDelete=true").status_code == 204

    for model in dependents:
        assert not model.objects.filter(segment_id=silver.pk).exists(), model.__name__
    assert not Segment.objects.filter(pk=silver.pk).exists()
