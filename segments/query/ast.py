"""The tree a parsed `q` becomes, and the one error every stage raises.

A `Query` is a tuple of conditions that must all hold. Each node keeps the character
offset it came from, so that the compiler, which knows the field map and the value
types, can still point at the exact place of a mistake.

For example `status:ACTIVE metadata.version:(>=2 AND <5)` parses to

    Query(conditions=(
        Condition(field="status", field_pos=0,
                  predicate=Compare(op="eq", value=Value("ACTIVE", False, 7), pos=7)),
        Condition(field="metadata.version", field_pos=14,
                  predicate=Range(parts=(Compare("gte", Value("2", False, 34), 32),
                                         Compare("lt", Value("5", False, 41), 40)), pos=31)),
    ))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CompareOp = Literal["eq", "gt", "lt", "gte", "lte"]

# How each comparison is written in `q`, for error messages.
OP_SYMBOLS: dict[str, str] = {"eq": ":", "gt": ">", "lt": "<", "gte": ">=", "lte": "<="}
OPS_BY_SYMBOL: dict[str, CompareOp] = {">": "gt", "<": "lt", ">=": "gte", "<=": "lte"}


class QuerySyntaxError(Exception):
    """A `q` or `sort` parameter that cannot be understood; says what is wrong and where."""

    def __init__(self, problem: str, position: int, *, hint: str | None = None) -> None:
        self.problem = problem
        self.position = position
        self.hint = hint
        # The position is part of the message, so every caller reports it the same way.
        self.message = f"{problem} at position {position}" + (f" ({hint})" if hint else "")
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class Value:
    """A literal as written: its text (unescaped if it was quoted) and where it starts."""

    raw: str
    quoted: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Compare:
    """`field:v`, `field:>v`, `field:<=v`...; `pos` is the operator's (or the value's) offset."""

    op: CompareOp
    value: Value
    pos: int


@dataclass(frozen=True, slots=True)
class Range:
    """`field:(>=a AND <b)`: every comparison must hold."""

    parts: tuple[Compare, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class In:
    """`field:(a,b,c)`: equal to any of the values."""

    values: tuple[Value, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Regex:
    """`field:~pattern`; `pos` is where the pattern itself starts."""

    pattern: str
    pos: int


@dataclass(frozen=True, slots=True)
class IsNull:
    """`field:null`: the value is null or absent."""

    pos: int


@dataclass(frozen=True, slots=True)
class Exists:
    """`field:exists`: the value is present and not null."""

    pos: int


@dataclass(frozen=True, slots=True)
class Missing:
    """`field:missing`: the value is absent or null (the opposite of `exists`)."""

    pos: int


Predicate = Compare | Range | In | Regex | IsNull | Exists | Missing


@dataclass(frozen=True, slots=True)
class Condition:
    """One `field:predicate` of the query; `field` is the API's dotted name, unchecked."""

    field: str
    field_pos: int
    predicate: Predicate


@dataclass(frozen=True, slots=True)
class Query:
    """A whole `q`: all of its conditions must hold. No conditions means no filter."""

    conditions: tuple[Condition, ...] = ()
