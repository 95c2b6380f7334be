"""Turns a `sort` parameter into Django ordering expressions, through a field map.

    sort=name.en:asc,metadata.createdAt:DESC,mixins.loyalty.tier

Each item is `field` or `field:direction` (ASC or DESC, any case; ASC by default).
Localized fields sort by their text in the given (or default) language; JSON paths by
the JSON value, so numbers sort as numbers (mixed types sort differently on SQLite and
PostgreSQL). Nulls come last when ascending and first when descending, on both
databases. The caller appends its own tie-breaker (the id) to make the order stable.
"""

from __future__ import annotations

from django.db.models import F, OrderBy
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from segments.query.ast import QuerySyntaxError
from segments.query.compiler import json_key, query_limits
from segments.query.fields import FieldMap, Json, Localized, resolve
from segments.query.limits import QueryLimits

_DIRECTIONS = ("asc", "desc")


def compile_sort(
    text: str | None,
    fields: FieldMap,
    *,
    default_language: str,
    limits: QueryLimits | None = None,
) -> list[OrderBy]:
    """Compile `sort` to ordering expressions; blank means []. Raises QuerySyntaxError.

    `limits` (the settings' by default) bound the number of fields and their paths.
    """
    if text is None or not text.strip():
        return []
    limits = limits or query_limits()
    ordering: list[OrderBy] = []
    offset = 0
    for number, item in enumerate(text.split(",")):
        start = offset + len(item) - len(item.lstrip())
        offset += len(item) + 1
        if number == limits.max_sort_fields:
            raise QuerySyntaxError(
                f"More than {limits.max_sort_fields} sort fields (SORT_MAX_FIELDS)", start
            )
        name, colon, direction = item.strip().partition(":")
        if not name:
            problem = "Missing sort field before ':'" if colon else "Empty sort item"
            raise QuerySyntaxError(problem, start)
        direction_pos = start + len(name) + 1
        if colon and direction.lower() not in _DIRECTIONS:
            raise QuerySyntaxError(
                f"Invalid sort direction '{direction}'", direction_pos, hint="use ASC or DESC"
            )
        expression = _expression(name, fields, default_language, start, limits)
        if direction.lower() == "desc":
            ordering.append(expression.desc(nulls_first=True))
        else:
            ordering.append(expression.asc(nulls_last=True))
    return ordering


def _expression(
    name: str, fields: FieldMap, default_language: str, position: int, limits: QueryLimits
) -> KeyTransform | F:
    field, path = resolve(fields, name, position=position, max_segments=limits.max_path_segments)
    if isinstance(field, Localized):
        return json_key(field.column, path or (default_language,), transform=KeyTextTransform)
    if isinstance(field, Json):
        if not path:
            raise QuerySyntaxError(
                f"Field '{name}' needs a key", position, hint=f"e.g. {name}.someKey"
            )
        return json_key(field.column, path, transform=KeyTransform)
    return F(field.column)
