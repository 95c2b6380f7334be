"""Properties of the `q` and `sort` entry points, for any text a client may send.

Whatever the text (brackets, quotes, operators, Unicode, tens of thousands of
characters), `compile_query` and `compile_sort` either give their result or raise
QuerySyntaxError, and they do so quickly; what they give runs in the database without an
error. Anything else would be a 500, or a request that hangs.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from segments.models import Segment
from segments.query import QuerySyntaxError, compile_query, compile_sort, parse_query
from segments.query.compiler import query_limits
from segments.query.fields import SEGMENT_FIELDS
from tests.factories import make_segment

QUICK = 1.0  # seconds for one text, compiled as q and as sort

FIELDS = st.sampled_from(
    [
        "id",
        "name",
        "name.en",
        "description.de",
        "status",
        "siteCode",
        "validity.from",
        "validity.to",
        "mixins",
        "mixins.a",
        "mixins.a.b",
        "mixins.a__b",
        "metadata.version",
        "metadata.createdAt",
        "metadata.mixins.x",
        "colour",
        "",
        "mixins" + ".a" * 70,
    ]
)
HOSTILE_VALUES = st.sampled_from(
    [
        "ACTIVE",
        "true",
        "null",
        "exists",
        "missing",
        "AND",
        "1e400",
        "-0",
        "9" * 30,
        "9" * 5000,
        "2024-05-18T07:27:27Z",
        '"0001-01-01T00:00:00+01:00"',
        '"9999-12-31T23:59:59-01:00"',
        "0001-01-01T00:00+0001",
        '"a b"',
        '"\\""',
        '"unclosed',
    ]
)
VALUES = st.one_of(
    HOSTILE_VALUES,
    HOSTILE_VALUES,  # twice: as likely as all the generated values together
    st.integers().map(str),
    st.floats().map(str),
    st.datetimes(timezones=st.timezones()).map(lambda value: value.isoformat()),
    st.text(max_size=20),
)
OPERATORS = st.sampled_from(["", ">", "<", ">=", "<=", "=", "!", "<>", "(", ")", ","])
REGEXES = st.one_of(
    st.sampled_from(
        [
            "a*a*a*c",
            "(a+)+b",
            "(a|aa)*",
            "a{99999999999}",
            "a{2,1}",
            "((a{1,200}){1,200})",
            "(?=a)",
            "(?P<n>a)",
            "[[:alpha:]]",
            "(Golden Seg)",
            r"\d\w\s\D\W\S",
            "\\",
        ]
    ),
    st.text(alphabet="ab()[]{}*+?|^$.\\dwsDWS-,0123456789:é ", max_size=40),
)
CONDITIONS = st.one_of(
    st.builds(lambda field, op, value: f"{field}:{op}{value}", FIELDS, OPERATORS, VALUES),
    st.builds(lambda field, pattern: f"{field}:~{pattern}", FIELDS, REGEXES),
    st.builds(
        lambda field, values: f"{field}:({','.join(values)})",
        FIELDS,
        st.lists(VALUES, max_size=6),
    ),
    st.builds(
        lambda field, bounds: f"{field}:({' AND '.join(bounds)})",
        FIELDS,
        st.lists(st.builds(lambda op, value: op + value, OPERATORS, VALUES), max_size=4),
    ),
)
QUERY_CHARACTERS = ' :()",~<>=!.\\[]{}*+?^$|-_ANDnulexistmg0123456789éß\u0130\u2028\x00\t'
TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=QUERY_CHARACTERS, max_size=200),
    st.lists(st.one_of(CONDITIONS, st.text(max_size=10)), max_size=8).map(" ".join),
    st.lists(CONDITIONS, max_size=8).map(",".join),
    # Long field paths, in q and as a sort field.
    st.builds(
        lambda field, times, tail: field + ".a" * times + tail,
        st.sampled_from(["mixins", "name", "colour"]),
        st.integers(min_value=0, max_value=30_000),
        st.sampled_from(["", ":x", ":(1,2)", ":~a", ",id"]),
    ),
    # Very long inputs, cheaply: one piece many times over (up to about 100,000 characters).
    st.builds(
        lambda piece, times: piece * times,
        st.one_of(CONDITIONS.map(lambda condition: condition + " "), st.text(max_size=5)),
        st.integers(min_value=1, max_value=20_000),
    ).filter(lambda text: len(text) <= 100_000),
)
PROPERTY = hypothesis_settings(
    max_examples=300,
    deadline=None,  # QUICK is checked below, on every example, also while shrinking
    database=None,  # no .hypothesis directory in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def compiled_or_refused(text: str) -> tuple[object, object]:
    """(Q or None, ordering or None): None where QuerySyntaxError was raised."""
    results = []
    for compile_ in (compile_query, compile_sort):
        try:
            results.append(compile_(text, SEGMENT_FIELDS, default_language="en"))
        except QuerySyntaxError:
            results.append(None)
    return tuple(results)


# Texts that once raised something else, or took seconds; Hypothesis tries them first.
KNOWN = [
    "metadata.version:" + "9" * 5000,
    "metadata.version:(99999999999999999999,1)",
    "mixins.a:>" + "9" * 5000,
    "name.en:~a{99999999999}",
    'metadata.createdAt:>"0001-01-01T00:00:00+01:00"',
    "validity.to:<9999-12-31T23:59:59-01:00",
    "mixins" + ".a" * 30_000 + ":x",
    "id:x " * 13_000,
    "mixins.a:(" + ",".join(map(str, range(500))) + ")",
    ",".join(f"mixins.a{n}" for n in range(5000)),
    "name.en:~a*a*a*c",
    "id:~{0",  # text to Python, an unfinished count to PostgreSQL (found by this test)
]


def known_examples(test):
    for text in KNOWN:
        test = example(text=text)(test)
    return test


@known_examples
@PROPERTY
@given(text=TEXTS)
def test_any_text_compiles_or_raises_query_syntax_error_quickly(text):
    started = time.perf_counter()
    limits = query_limits()  # as the API parses: within the settings' limits
    with contextlib.suppress(QuerySyntaxError):
        parse_query(text, max_length=limits.max_length, max_conditions=limits.max_conditions)
    compiled_or_refused(text)
    assert time.perf_counter() - started < QUICK


@pytest.fixture
def stored(tenant):
    """Rows for the regular expressions and comparisons to run against."""
    make_segment(tenant, "long", name={"en": "a" * 600}, mixins={"a": {"b": "a" * 600}})
    make_segment(tenant, "gold", name={"en": "Größé"}, mixins={"a": 5, "t": True})
    return Segment.objects.filter(tenant=tenant)


@pytest.mark.django_db
@known_examples
@PROPERTY
@given(text=TEXTS)
def test_what_compiles_runs_in_the_database_quickly(stored, text):
    started = time.perf_counter()
    condition, ordering = compiled_or_refused(text)
    with transaction.atomic():  # a savepoint: an error must not poison later examples
        if condition is not None:
            list(stored.filter(condition).values_list("id", flat=True))
        if ordering is not None:
            list(stored.order_by(*ordering).values_list("id", flat=True))
    assert time.perf_counter() - started < QUICK
