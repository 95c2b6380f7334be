"""The parser: `q` text → frozen tree, and errors naming the problem and its position."""

from __future__ import annotations

import dataclasses

import pytest

from segments.query import parse_query
from segments.query.ast import (
    Compare,
    Condition,
    Exists,
    In,
    IsNull,
    Missing,
    Query,
    QuerySyntaxError,
    Range,
    Regex,
    Value,
)


def one(field: str, predicate, field_pos: int = 0) -> Query:
    return Query((Condition(field, field_pos, predicate),))


def word(raw: str, pos: int) -> Value:
    return Value(raw, False, pos)


def quoted(raw: str, pos: int) -> Value:
    return Value(raw, True, pos)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", Query(())),
        ("  ", Query(())),
        ("status:ACTIVE", one("status", Compare("eq", word("ACTIVE", 7), 7))),
        ("name.en:Gold", one("name.en", Compare("eq", word("Gold", 8), 8))),
        ("mixins.a.b:15", one("mixins.a.b", Compare("eq", word("15", 11), 11))),
        ('name.en:"Golden Segment"', one("name.en", Compare("eq", quoted("Golden Segment", 8), 8))),
        ('a:"with \\"quotes\\""', one("a", Compare("eq", quoted('with "quotes"', 2), 2))),
        ("a:true", one("a", Compare("eq", word("true", 2), 2))),
        ("a:>5", one("a", Compare("gt", word("5", 3), 2))),
        ("a:<5", one("a", Compare("lt", word("5", 3), 2))),
        ("a:>=5", one("a", Compare("gte", word("5", 4), 2))),
        ("a:<=5", one("a", Compare("lte", word("5", 4), 2))),
        ('a:>="2024-05-18"', one("a", Compare("gte", quoted("2024-05-18", 4), 2))),
        ("a:null", one("a", IsNull(2))),
        ("a:exists", one("a", Exists(2))),
        ("a:missing", one("a", Missing(2))),
        # Keywords only where a whole value stands, and only unquoted and in lower case.
        ('a:"null"', one("a", Compare("eq", quoted("null", 2), 2))),
        ("a:NULL", one("a", Compare("eq", word("NULL", 2), 2))),
        ("a:>null", one("a", Compare("gt", word("null", 3), 2))),
        ("a:(null)", one("a", In((word("null", 3),), 2))),
        ("id:(a,b,c)", one("id", In((word("a", 4), word("b", 6), word("c", 8)), 3))),
        ('id:( a , "b c" )', one("id", In((word("a", 5), quoted("b c", 9)), 3))),
        ("id:(a)", one("id", In((word("a", 4),), 3))),
        (
            "v:(>=10 AND <=20)",
            one(
                "v",
                Range((Compare("gte", word("10", 5), 3), Compare("lte", word("20", 14), 12)), 2),
            ),
        ),
        (
            "v:(>1 and <2)",
            one("v", Range((Compare("gt", word("1", 4), 3), Compare("lt", word("2", 11), 10)), 2)),
        ),
        ("v:(>1)", one("v", Range((Compare("gt", word("1", 4), 3),), 2))),
        (
            'metadata.createdAt:(>="2024-05-18T07:27:27.455Z" AND <"2024-05-20T00:00:00Z")',
            one(
                "metadata.createdAt",
                Range(
                    (
                        Compare("gte", quoted("2024-05-18T07:27:27.455Z", 22), 20),
                        Compare("lt", quoted("2024-05-20T00:00:00Z", 54), 53),
                    ),
                    19,
                ),
            ),
        ),
        ("code:~AB12", one("code", Regex("AB12", 6))),
        ("name.en:~(Golden Seg)", one("name.en", Regex("Golden Seg", 10))),
        ("code:~^A.*(B|C)$", one("code", Regex("^A.*(B|C)$", 6))),
        (
            "status:ACTIVE metadata.version:(>=2 AND <5)",
            Query(
                (
                    Condition("status", 0, Compare("eq", word("ACTIVE", 7), 7)),
                    Condition(
                        "metadata.version",
                        14,
                        Range(
                            (Compare("gte", word("2", 34), 32), Compare("lt", word("5", 41), 40)),
                            31,
                        ),
                    ),
                )
            ),
        ),
        (
            "a:1  b:~x c:missing",
            Query(
                (
                    Condition("a", 0, Compare("eq", word("1", 2), 2)),
                    Condition("b", 5, Regex("x", 8)),
                    Condition("c", 10, Missing(12)),
                )
            ),
        ),
    ],
)
def test_parses_to_tree(text, tree):
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a:()", "Empty brackets at position 2"),
        ("a:( )", "Empty brackets at position 2"),
        ("a:(,b)", "Empty value at position 3"),
        ("a:(a,,b)", "Empty value at position 5"),
        ("a:(a,)", "Empty value at position 5"),
        ("a:(a b)", "Expected ',' or ')', found 'b' at position 5"),
        ('a:(a "b")', "Expected ',' or ')', found a quoted value at position 5"),
        ("a:(1 AND 2)", "Expected ',' or ')', found 'AND' at position 5"),
        ("a:(a,>b)", "Unexpected operator '>' in a list of values at position 5"),
        (
            "a:(>1, <2)",
            "Expected 'AND' or ')', found ',' at position 5 (a range is written like (>=10 AND <=20))",
        ),
        (
            "a:(>1 OR <2)",
            "Expected 'AND' or ')', found 'OR' at position 6 (a range is written like (>=10 AND <=20))",
        ),
        (
            "a:(>1 <2)",
            "Expected 'AND' or ')', found '<' at position 6 (a range is written like (>=10 AND <=20))",
        ),
        ("a:(>1 AND 2)", "Expected a comparison operator, found '2' at position 10"),
        ("a:(>1 AND)", "Expected a comparison operator, found ')' at position 9"),
        ("a:(>)", "Empty value after '>' at position 4"),
        ("a:(> AND <2)", "Empty value after '>' at position 5"),
        (
            "a:(>1,)",
            "Expected 'AND' or ')', found ',' at position 5 (a range is written like (>=10 AND <=20))",
        ),
        # Lexer errors come through parse_query unchanged.
        ("a:(x", "Unbalanced '(' at position 2"),
        ("foo", "Expected ':' after 'foo' at position 3"),
    ],
)
def test_errors_name_the_problem_and_its_position(text, message):
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query(text)
    assert raised.value.message == message


def test_tree_is_frozen():
    tree = parse_query("a:1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.conditions[0].field = "b"  # type: ignore[misc]


def test_trees_are_hashable_values():
    assert hash(parse_query("a:(1,2) b:~x")) == hash(parse_query("a:(1,2) b:~x"))


def test_a_query_longer_than_max_length_is_refused_before_it_is_read():
    assert parse_query("a:1", max_length=3) == parse_query("a:1")
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query("a:12", max_length=3)
    assert raised.value.message == (
        "Query longer than 3 characters (QUERY_MAX_LENGTH) at position 3"
    )


@pytest.mark.parametrize("text", ["a:1 b:2 c:3", "a:1 b:2  c:(", "a:1 b:2 )"])
def test_reading_stops_at_the_condition_past_max_conditions(text):
    assert len(parse_query("a:1 b:2", max_conditions=2).conditions) == 2
    with pytest.raises(QuerySyntaxError) as raised:
        parse_query(text, max_conditions=2)
    assert raised.value.message == (
        f"More than 2 conditions (QUERY_MAX_CONDITIONS) at position {text.index(text.split()[2])} "
        "(a range counts one per bound, a list on a JSON path one per value)"
    )
