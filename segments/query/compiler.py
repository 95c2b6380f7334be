"""Turns a `q` (or its parsed tree) into a Django `Q`, through a resource's field map.

This is the only module of the package that imports Django's ORM (with `sorting`, which
builds ordering expressions). Everything it emits works the same on SQLite and
PostgreSQL:

- values are typed by the field: dates are ISO 8601 (naive means UTC), numbers are
  integers, booleans are `true`/`false`, enums must be one of their choices;
- on a JSON path, an unquoted number matches the JSON number or the same text
  (`mixins.a:15` finds `15` and `"15"`), `true`/`false` the JSON booleans, and a quoted
  value only the JSON string;
- `null` and `missing` mean "absent or null", `exists` "present and not null";
- comparisons on a JSON path only match values of the compared type (numbers with
  numbers, strings with strings), as the two databases order mixed types differently.

    compile_query('status:ACTIVE name.en:~(Golden Seg)', SEGMENT_FIELDS, default_language="en")
    → Q(status__exact="ACTIVE") & Q(PathLookup("name", ("en",), "regex", "Golden Seg"))

Conditions on a JSON path are `PathLookup`s, built from key transforms: a `__`-joined
lookup string would read a key named like a lookup (`mixins.a.exact`) as that lookup.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import NotSupportedError
from django.db.models import BooleanField, CharField, Expression, JSONField, Q
from django.db.models import Value as V
from django.db.models.fields.json import KeyTransform, compile_json_path
from django.db.models.lookups import In as InLookup

from segments.query.ast import (
    OP_SYMBOLS,
    Compare,
    Condition,
    Exists,
    In,
    IsNull,
    Missing,
    Predicate,
    Query,
    QuerySyntaxError,
    Range,
    Regex,
    Value,
)
from segments.query.fields import (
    Boolean,
    DateTime,
    Enum,
    Field,
    FieldMap,
    Integer,
    Json,
    Localized,
    Text,
    resolve,
)
from segments.query.limits import QueryLimits, too_many_conditions
from segments.query.parser import parse_query
from segments.query.regex import check_regex

_LOOKUPS = {"eq": "exact", "gt": "gt", "lt": "lt", "gte": "gte", "lte": "lte"}
# JSON number grammar (RFC 8259): `007` or `+1` are text, not numbers.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
# What the databases' integer columns (and SQLite's parameters) hold.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Past this many digits, int() may refuse a text (Python's limit is 4,300 by default).
_INT_DIGITS = 4000
_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
# What `KeyJSONType` answers for each kind of JSON value (PostgreSQL's, then SQLite's).
NUMBER_TYPES = ("number", "integer", "real")
STRING_TYPES = ("string", "text")
BOOLEAN_TYPES = ("boolean", "true", "false")
NULL_TYPES = ("null",)

# The JSON path equality this compiler emits; `segments.lookups` registers it under this name.
PATH_EXACT = "path_exact"


class KeyJSONType(KeyTransform):
    """The JSON type of the value at a key, e.g. `KeyJSONType("b", KeyTransform("a", "mixins"))`.

    PostgreSQL answers `jsonb_typeof` (`number`, `string`, `boolean`...), SQLite `json_type`
    (`integer`, `real`, `text`, `true`...); compare with NUMBER_TYPES or STRING_TYPES.
    """

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = super().as_postgresql(compiler, connection)
        return f"jsonb_typeof({sql})", params

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lhs, params, keys = self.preprocess_lhs(compiler, connection)
        return f"JSON_TYPE({lhs}, %s)", (*params, compile_json_path(keys))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        raise NotSupportedError("KeyJSONType supports PostgreSQL and SQLite only.")


def json_key(
    column: str, path: tuple[str, ...], *, transform: type[KeyTransform] = KeyTransform
) -> KeyTransform:
    """The expression for the value at `path` in a JSON `column`: nested KeyTransforms."""
    # The column as a string, as `KT("name__en")` builds it, so equal paths compare equal.
    expression: Any = column
    for key in path[:-1]:
        expression = KeyTransform(key, expression)
    return transform(path[-1], expression)


class PathLookup(Expression):
    """A lookup on the value at a JSON path, e.g. `PathLookup("mixins", ("a", "exact"),
    "isnull", True)`, built from key transforms when the query resolves it.

    Never a `__`-joined string (`mixins__a__exact__isnull`), in which Django reads a key
    named like a lookup or transform (`exact`, `in`, `contains`) as that lookup. The lookup
    is made once its column is resolved: the value is prepared by the column's type (a
    JSON value), as for a lookup Django builds from a string.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, path: tuple[str, ...], lookup_name: str, value: Any) -> None:
        super().__init__()
        self.column, self.path, self.lookup_name, self.value = column, path, lookup_name, value

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Any:
        """The lookup itself, on the resolved key transforms."""
        key = json_key(self.column, self.path).resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        lookup = key.get_lookup(self.lookup_name)
        if lookup is None:  # pragma: no cover - the compiler names only registered lookups
            raise NotSupportedError(f"No JSON path lookup {self.lookup_name!r}.")
        return lookup(key, self.value)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:  # pragma: no cover
        raise NotSupportedError("PathLookup is replaced by its lookup when the query resolves it.")


def query_limits() -> QueryLimits:
    """The limits on `q` and `sort` the settings give (QUERY_MAX_LENGTH and the others)."""
    return QueryLimits(
        max_length=settings.QUERY_MAX_LENGTH,
        max_conditions=settings.QUERY_MAX_CONDITIONS,
        max_path_segments=settings.FIELD_PATH_MAX_SEGMENTS,
        max_sort_fields=settings.SORT_MAX_FIELDS,
    )


def compile_query(
    query: str | Query | None,
    fields: FieldMap,
    *,
    default_language: str,
    limits: QueryLimits | None = None,
) -> Q:
    """Compile `q` (text or tree) to a Q over `fields`; blank means Q(). Raises QuerySyntaxError.

    `limits` (the settings' by default) bound the text, the field paths and the number
    of conditions: a range counts one per bound and a list on a JSON path one per value,
    as each becomes its own SQL comparison.
    """
    if query is None or (isinstance(query, str) and not query.strip()):
        return Q()
    limits = limits or query_limits()
    tree = (
        parse_query(query, max_length=limits.max_length, max_conditions=limits.max_conditions)
        if isinstance(query, str)
        else query
    )
    filters = []
    conditions = 0
    for condition in tree.conditions:
        field, path = resolve(
            fields,
            condition.field,
            position=condition.field_pos,
            max_segments=limits.max_path_segments,
        )
        conditions += _comparisons(condition.predicate, field)
        if conditions > limits.max_conditions:
            raise too_many_conditions(limits.max_conditions, condition.field_pos)
        filters.append(_condition(condition, field, path, default_language))
    return reduce(operator.and_, filters, Q())


def _comparisons(predicate: Predicate, field: Field) -> int:
    """How many SQL comparisons `predicate` becomes, as QUERY_MAX_CONDITIONS counts them."""
    if isinstance(predicate, Range):
        return len(predicate.parts)
    if isinstance(predicate, In) and isinstance(field, Json):
        return len(predicate.values)
    return 1


def _condition(
    condition: Condition, field: Field, path: tuple[str, ...], default_language: str
) -> Q:
    if isinstance(field, Localized):
        return _JsonCondition(condition, field, path or (default_language,), text_only=True).q()
    if isinstance(field, Json):
        if not path and not isinstance(condition.predicate, IsNull | Exists | Missing):
            raise QuerySyntaxError(
                f"Field '{condition.field}' needs a key",
                condition.field_pos,
                hint=f"e.g. {condition.field}.someKey",
            )
        return _JsonCondition(condition, field, path, text_only=False).q()
    return _ColumnCondition(condition, field).q()


def _each(predicate: Range, build: Callable[[Predicate], Q]) -> Q:
    return reduce(operator.and_, (build(part) for part in predicate.parts))


class _ColumnCondition:
    """A condition on a plain column: Text, Enum, Integer, DateTime or Boolean."""

    def __init__(self, condition: Condition, field: Field) -> None:
        self.condition = condition
        self.field = field
        self.column = field.column

    def q(self, predicate: Predicate | None = None) -> Q:
        if predicate is None:
            predicate = self.condition.predicate
        match predicate:
            case IsNull() | Missing():
                return Q(**{f"{self.column}__isnull": True})
            case Exists():
                return Q(**{f"{self.column}__isnull": False})
            case Compare(op=op, value=value, pos=pos):
                if op != "eq" and isinstance(self.field, Boolean | Enum):
                    raise QuerySyntaxError(
                        f"Operator '{OP_SYMBOLS[op]}' is not allowed on '{self.condition.field}'",
                        pos,
                    )
                return Q(**{f"{self.column}__{_LOOKUPS[op]}": self._typed(value)})
            case Range():
                return _each(predicate, self.q)
            case In(values=values):
                typed = list(dict.fromkeys(self._typed(value) for value in values))
                if isinstance(self.field, Integer):
                    # Unlike a comparison, Django sends these as they are: SQLite binds no
                    # integer past 64 bits, and no row holds one.
                    typed = [number for number in typed if INT64_MIN <= number <= INT64_MAX]
                return Q(**{f"{self.column}__in": typed})
            case Regex(pattern=pattern, pos=pos):
                if not isinstance(self.field, Text | Enum):
                    raise QuerySyntaxError(
                        f"Regular expressions are not allowed on '{self.condition.field}'", pos
                    )
                check_regex(pattern, pos)
                return Q(**{f"{self.column}__regex": pattern})
        raise TypeError(f"Unknown predicate {predicate!r}")  # pragma: no cover

    def _typed(self, value: Value) -> Any:
        """The Python value for `value` in this column; QuerySyntaxError if it does not fit."""
        match self.field:
            case Integer():
                return _integer(value)
            case DateTime():
                return _datetime(value)
            case Boolean():
                if value.raw.lower() not in ("true", "false"):
                    raise QuerySyntaxError(
                        f"Invalid boolean '{value.raw}'", value.pos, hint="use true or false"
                    )
                return value.raw.lower() == "true"
            case Enum(choices=choices):
                if value.raw not in choices:
                    raise QuerySyntaxError(
                        f"Invalid value '{value.raw}' for '{self.condition.field}'",
                        value.pos,
                        hint=f"expected one of {', '.join(choices)}",
                    )
                return value.raw
        return value.raw


class _JsonCondition:
    """A condition on a value inside a JSON column: a Localized language or a Json path."""

    def __init__(
        self,
        condition: Condition,
        field: Localized | Json,
        path: tuple[str, ...],
        *,
        text_only: bool,
    ) -> None:
        self.condition = condition
        self.column = field.column
        self.path = path
        # Localized values are text, so `name.en:15` means the text "15" only.
        self.text_only = text_only

    def _lookup(self, name: str, value: Any) -> Q:
        """`name` (a lookup of JSON key paths) on the value at this path, as a Q."""
        return Q(PathLookup(self.column, self.path, name, value))

    def q(self, predicate: Predicate | None = None) -> Q:
        if predicate is None:
            predicate = self.condition.predicate
        match predicate:
            case IsNull() | Missing():
                return self._absent_or_null()
            case Exists():
                return ~self._absent_or_null()
            case Compare(op="eq", value=value):
                return self._equals(value)
            case Compare(op=op, value=value):
                return self._compare(op, value)
            case Range():
                return _each(predicate, self.q)
            case In(values=values):
                if self.text_only:
                    return self._lookup("in", list(dict.fromkeys(v.raw for v in values)))
                return reduce(operator.or_, (self._equals(value) for value in values))
            case Regex(pattern=pattern, pos=pos):
                check_regex(pattern, pos)
                return self._lookup("regex", pattern)
        raise TypeError(f"Unknown predicate {predicate!r}")  # pragma: no cover

    def _absent_or_null(self) -> Q:
        if not self.path:
            # The whole column: SQL NULL, or the JSON value null.
            return Q(**{f"{self.column}__isnull": True}) | Q(**{self.column: V(None, JSONField())})
        # On a key transform, isnull=True means the key is absent. JSON null is checked by
        # its type, since `=None` also finds the text "null" on SQLite.
        return self._lookup("isnull", True) | self._of_type(NULL_TYPES)

    def _equals(self, value: Value) -> Q:
        if self.text_only or value.quoted:
            text = self._lookup(PATH_EXACT, value.raw)
            if value.raw in ("true", "false", "null") and not self.text_only:
                return text & self._of_type(STRING_TYPES)
            return text
        if value.raw in ("true", "false"):
            boolean = self._lookup(PATH_EXACT, value.raw == "true")
            # SQLite's JSON functions report true/false as these words, like the text.
            return boolean & self._of_type(BOOLEAN_TYPES)
        number = _json_number(value.raw)
        if number is not None:
            return self._lookup(PATH_EXACT, number) | self._lookup(PATH_EXACT, value.raw)
        return self._lookup(PATH_EXACT, value.raw)

    def _compare(self, op: str, value: Value) -> Q:
        number = None
        if not (self.text_only or value.quoted):
            number = _json_number(value.raw, bounded=True)
        if number is not None:
            return self._lookup(op, number) & self._of_type(NUMBER_TYPES)
        text = self._lookup(op, value.raw)
        # Localized values are always text; elsewhere, stop "b" < 5 < true across types.
        return text if self.text_only else text & self._of_type(STRING_TYPES)

    def _of_type(self, types: tuple[str, ...]) -> Q:
        return Q(InLookup(json_key(self.column, self.path, transform=KeyJSONType), types))


def _json_number(raw: str, *, bounded: bool = False) -> int | float | None:
    """The number `raw` spells as JSON; None when it is no number or too large for a float.

    `bounded` turns integers past 64 bits into floats: SQLite binds no larger integer
    parameter (equality does not need it, Django sends the value as JSON text there).
    """
    if not _JSON_NUMBER.fullmatch(raw):
        return None
    # Longer integers are read as floats, which are infinite there: matched as text only.
    if _INTEGER.fullmatch(raw) and len(raw.lstrip("-").lstrip("0")) <= _INT_DIGITS:
        number = int(raw)
        if not bounded or INT64_MIN <= number <= INT64_MAX:
            return number
    as_float = float(raw)
    # 1e999 is a valid JSON number but no float: match it as text only.
    return as_float if math.isfinite(as_float) else None


def _integer(value: Value) -> int:
    """The integer `value` spells; past 64 bits, one just past them on the same side.

    No column holds a larger integer, so the comparison comes out the same, and Django
    answers a comparison with an integer out of the column's range without the database.
    """
    if not _INTEGER.fullmatch(value.raw):
        raise QuerySyntaxError(f"Invalid number '{value.raw}'", value.pos)
    # Python refuses to read integers of more than 4,300 digits.
    if len(value.raw.lstrip("+-").lstrip("0")) > 19:
        return INT64_MIN - 1 if value.raw.startswith("-") else INT64_MAX + 1
    return int(value.raw)


def _datetime(value: Value) -> datetime:
    """An ISO 8601 date or date-time, in UTC; naive ones are UTC, a bare date is its midnight."""
    try:
        if not _DATE.fullmatch(value.raw):
            raise ValueError(value.raw)
        parsed = datetime.fromisoformat(value.raw)
    except ValueError:
        raise QuerySyntaxError(
            f"Invalid date '{value.raw}'", value.pos, hint="use ISO 8601, e.g. 2024-05-18T07:27:27Z"
        ) from None
    if not parsed.tzinfo:
        return parsed.replace(tzinfo=UTC)
    try:
        # SQLite stores instants as UTC text: 0001-01-01T00:00+01:00 has no such text.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise QuerySyntaxError(
            f"Date '{value.raw}' is out of range",
            value.pos,
            hint="in UTC it must fall within the years 1 to 9999",
        ) from None
