"""The `sort` parameter: ordering expressions, errors with positions, and real orders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models import F
from django.db.models.fields.json import KT, KeyTransform

from segments.models import Segment
from segments.query import QuerySyntaxError, compile_sort
from segments.query.fields import SEGMENT_FIELDS
from segments.query.limits import QueryLimits
from tests.factories import make_segment


def sort_segments(text: str | None, *, default_language: str = "en"):
    return compile_sort(text, SEGMENT_FIELDS, default_language=default_language)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("  ", []),
        ("id", [F("external_id").asc(nulls_last=True)]),
        ("id:ASC", [F("external_id").asc(nulls_last=True)]),
        ("id:desc", [F("external_id").desc(nulls_first=True)]),
        ("id:Desc", [F("external_id").desc(nulls_first=True)]),
        (
            "siteCode:ASC,metadata.createdAt:DESC",
            [F("site_code").asc(nulls_last=True), F("created_at").desc(nulls_first=True)],
        ),
        (
            " status , validity.to:desc ",
            [
                F("status").asc(nulls_last=True),
                F("valid_to").desc(nulls_first=True),
            ],
        ),
        ("name.de:asc", [KT("name__de").asc(nulls_last=True)]),
        ("name", [KT("name__en").asc(nulls_last=True)]),
        ("mixins.tier:desc", [KeyTransform("tier", "mixins").desc(nulls_first=True)]),
        (
            "mixins.a.b",
            [KeyTransform("b", KeyTransform("a", "mixins")).asc(nulls_last=True)],
        ),
        ("metadata.mixins.x", [KeyTransform("x", "metadata_mixins").asc(nulls_last=True)]),
    ],
)
def test_compiles_to_ordering_expressions(text, expected):
    assert sort_segments(text) == expected


def test_bare_localized_field_sorts_by_the_given_default_language():
    assert sort_segments("name:desc", default_language="de") == [
        KT("name__de").desc(nulls_first=True)
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "Unknown field 'foo' at position 0"),
        ("id,foo:desc", "Unknown field 'foo' at position 3"),
        ("id, foo", "Unknown field 'foo' at position 4"),
        ("name.en.x", "Unknown field 'name.en.x' at position 0"),
        ("id:up", "Invalid sort direction 'up' at position 3 (use ASC or DESC)"),
        ("id:", "Invalid sort direction '' at position 3 (use ASC or DESC)"),
        (
            "status,id:ascending",
            "Invalid sort direction 'ascending' at position 10 (use ASC or DESC)",
        ),
        ("id,,status", "Empty sort item at position 3"),
        ("id,", "Empty sort item at position 3"),
        (":asc", "Missing sort field before ':' at position 0"),
        ("mixins:asc", "Field 'mixins' needs a key at position 0 (e.g. mixins.someKey)"),
    ],
)
def test_errors_name_the_problem_and_its_position(text, message):
    with pytest.raises(QuerySyntaxError) as raised:
        sort_segments(text)
    assert raised.value.message == message


def ordered(tenant, sort: str) -> list[str]:
    # The caller's tie-breaker, as the list endpoints append it.
    ordering = [*sort_segments(sort), F("external_id").asc()]
    rows = Segment.objects.filter(tenant=tenant).order_by(*ordering)
    return list(rows.values_list("external_id", flat=True))


@pytest.fixture
def ranked(tenant):
    """Segments with numbers and text in their mixins, and a missing English name."""
    make_segment(tenant, "a", name={"en": "beta"}, mixins={"tier": 100}, version=2)
    make_segment(tenant, "b", name={"en": "Alpha"}, mixins={"tier": 9}, version=1)
    make_segment(tenant, "c", name={"de": "Gamma"}, mixins={}, version=2)
    make_segment(
        tenant,
        "d",
        name={"en": "alpha"},
        mixins={"tier": 15},
        version=3,
        valid_from=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return tenant


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["a", "b", "c", "d"]),
        ("id:desc", ["d", "c", "b", "a"]),
        ("metadata.version", ["b", "a", "c", "d"]),
        ("metadata.version:DESC", ["d", "a", "c", "b"]),
        # JSON numbers sort as numbers; absent keys come last ascending, first descending.
        ("mixins.tier", ["b", "d", "a", "c"]),
        ("mixins.tier:desc", ["c", "a", "d", "b"]),
        # Nulls last ascending and first descending, on plain columns too.
        ("validity.from", ["d", "a", "b", "c"]),
        ("validity.from:desc", ["a", "b", "c", "d"]),
        ("name.de:asc,metadata.version:desc", ["c", "d", "a", "b"]),
    ],
)
def test_orders_segments(ranked, sort, expected):
    assert ordered(ranked, sort) == expected


@pytest.mark.django_db
def test_localized_sort_puts_missing_languages_last(ranked):
    # Letter case is collation-dependent (SQLite compares bytes), so only check the nulls.
    assert ordered(ranked, "name.en")[-1] == "c"
    assert ordered(ranked, "name.en:desc")[0] == "c"
    assert set(ordered(ranked, "name.en")[:3]) == {"a", "b", "d"}


LIMITS = QueryLimits(max_length=100, max_conditions=3, max_path_segments=3, max_sort_fields=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,name,status", "More than 2 sort fields (SORT_MAX_FIELDS) at position 8"),
        ("id, name ,  status", "More than 2 sort fields (SORT_MAX_FIELDS) at position 12"),
        (
            "mixins.a.b.c",
            "Field path 'mixins.a.b.c' has 4 segments, more than 3 (FIELD_PATH_MAX_SEGMENTS) "
            "at position 0",
        ),
    ],
)
def test_limits_name_the_setting_and_the_position(text, message):
    with pytest.raises(QuerySyntaxError) as raised:
        compile_sort(text, SEGMENT_FIELDS, default_language="en", limits=LIMITS)
    assert raised.value.message == message


def test_within_the_limits_sorts():
    assert (
        len(compile_sort("id,mixins.a.b", SEGMENT_FIELDS, default_language="en", limits=LIMITS))
        == 2
    )
