"""The containment form of `exact` on JSON paths finds exactly what Django's own form finds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from segments.models import Segment
from tests.factories import make_segment

DOCUMENTS = {
    "string": {"a": {"b": "GOLD"}},
    "other": {"a": {"b": "SILVER"}},
    "number": {"a": {"b": 15}},
    "float": {"a": {"b": 15.0}},
    "number_text": {"a": {"b": "15"}},
    "true": {"a": {"b": True}},
    "array": {"a": {"b": ["GOLD"]}},
    "object": {"a": {"b": {"GOLD": 1}}},
    "list_of_objects": {"a": [{"b": "GOLD"}]},
    "indexed": {"a": ["GOLD", "x"]},
    "null": {"a": {"b": None}},
    "missing": {"a": {}},
}


@pytest.fixture
def segments(tenant):
    for name, mixins in DOCUMENTS.items():
        make_segment(tenant, name, mixins=mixins)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lookup", "value", "expected"),
    [
        ("mixins__a__b", "GOLD", {"string"}),
        ("mixins__a__b", 15, {"number", "float"}),
        ("mixins__a__b", "15", {"number_text"}),
        ("mixins__a__b", True, {"true"}),
        ("mixins__a__0", "GOLD", {"indexed"}),
        ("mixins__a__b", ["GOLD"], {"array"}),
        ("mixins__a__b", None, {"null"}),
    ],
)
def test_exact_on_a_json_path_matches_only_equal_values(segments, lookup, value, expected):
    found = Segment.objects.filter(Q(**{lookup: value})).values_list("external_id", flat=True)

    assert set(found) == expected


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_on_postgresql_a_scalar_on_object_keys_becomes_containment(tenant):
    containment = str(Segment.objects.filter(mixins__a__b="GOLD").query)
    indexed = str(Segment.objects.filter(mixins__a__0="GOLD").query)
    localized = str(Segment.objects.filter(name__en="Gold").query)

    assert '"segments_segment"."mixins" @> {"a": {"b": "GOLD"}}' in containment
    assert "@>" not in indexed
    assert '"segments_segment"."name" @> {"en": "Gold"}' in localized
