"""The named lookup `path_exact` on JSON paths finds exactly what Django's `exact` finds.

Only the `q` compiler emits it; Django's own `exact` on JSON key paths is left as it is.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KeyTransform, KeyTransformExact

from segments.lookups import JsonPathExact
from segments.models import Segment
from segments.query.compiler import compile_query
from segments.query.fields import SEGMENT_FIELDS
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
@pytest.mark.parametrize("name", ["path_exact", "exact"])
def test_exact_on_a_json_path_matches_only_equal_values(segments, lookup, value, expected, name):
    found = Segment.objects.filter(Q(**{f"{lookup}__{name}": value})).values_list(
        "external_id", flat=True
    )

    assert set(found) == expected


def test_djangos_exact_on_json_key_paths_is_left_as_django_defines_it():
    assert KeyTransform.get_lookups()["exact"] is KeyTransformExact
    assert KeyTransform.get_lookups()["path_exact"] is JsonPathExact


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_on_postgresql_a_scalar_on_object_keys_becomes_containment(tenant):
    containment = str(Segment.objects.filter(mixins__a__b__path_exact="GOLD").query)
    indexed = str(Segment.objects.filter(mixins__a__0__path_exact="GOLD").query)
    localized = str(Segment.objects.filter(name__en__path_exact="Gold").query)

    assert '"segments_segment"."mixins" @> {"a": {"b": "GOLD"}}' in containment
    assert "@>" not in indexed
    assert '"segments_segment"."name" @> {"en": "Gold"}' in localized


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
@pytest.mark.parametrize("q", ["mixins.a.b:GOLD", "name.en:Gold", "name:Gold"])
def test_on_postgresql_the_q_compiler_emits_the_containment_form(tenant, q):
    compiled = compile_query(q, SEGMENT_FIELDS, default_language="en")

    assert "@>" in str(Segment.objects.filter(compiled).query)


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
@pytest.mark.parametrize(
    "query",
    [
        Q(mixins__a__b="GOLD"),
        Q(mixins__a__b__exact="GOLD"),
        Q(name__en="Gold"),
        Q(mixins__a__b__iexact="gold"),
        Q(mixins__a__b__in=["GOLD"]),
        Q(mixins__contains={"a": {"b": "GOLD"}}),
    ],
)
def test_on_postgresql_other_json_lookups_keep_djangos_sql(tenant, query):
    sql = str(Segment.objects.filter(query).query)

    assert ("@>" in sql) == ("contains" in str(query)), sql
