"""`customer_segment_ids`: the membership rule's query, compiled once per shape."""

from __future__ import annotations

import pytest

from segments.selectors import segments as selectors
from tests.factories import assign_customer, make_customer, make_legal_entity, make_segment


@pytest.fixture
def members(tenant):
    one, two = make_legal_entity(tenant, "le1"), make_legal_entity(tenant, "le2")
    b2b = make_customer(tenant, "b2b", legal_entities=[one, two])
    b2c = make_customer(tenant, "b2c")
    gold, silver = make_segment(tenant, "gold"), make_segment(tenant, "silver", status="INACTIVE")
    assign_customer(gold, b2b, one)
    assign_customer(silver, b2b, two)
    assign_customer(gold, b2c)
    assign_customer(silver, b2c)
    return gold.pk, silver.pk


@pytest.mark.django_db
@pytest.mark.parametrize("effective", [False, True])
@pytest.mark.parametrize(
    ("customer", "legal_entity"), [("b2c", None), ("b2b", None), ("b2b", "le1"), ("b2b", "le2")]
)
def test_the_ids_are_the_querysets(tenant, members, customer, legal_entity, effective):
    ids = selectors.customer_segment_ids(
        tenant=tenant, customer_id=customer, legal_entity_id=legal_entity, only_effective=effective
    )
    at = selectors.timezone.now() if effective else None
    queryset = selectors._customer_segments(
        tenant=tenant.pk, customer_id=customer, legal_entity_id=legal_entity, at=at
    )
    assert ids == sorted(queryset)


@pytest.mark.django_db
def test_the_query_is_built_once_per_shape(tenant, members, monkeypatch):
    gold, silver = members
    built = []
    build = selectors._customer_segments
    for template in selectors._CUSTOMER_SEGMENTS.values():
        monkeypatch.setattr(template, "_compiled", {})
        monkeypatch.setattr(template, "build", lambda **v: built.append(v) or build(**v))

    for _ in range(3):
        assert selectors.customer_segment_ids(
            tenant=tenant, customer_id="b2c", legal_entity_id=None
        ) == sorted([gold, silver])
        assert selectors.customer_segment_ids(
            tenant=tenant, customer_id="b2b", legal_entity_id="le1", only_effective=True
        ) == [gold]

    assert len(built) == 4  # two shapes, each built twice when it is compiled
