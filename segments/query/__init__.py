"""The `q` query language and the `sort` parameter of every list and search.

    lexer → tokens with offsets → parser → frozen tree (`ast`) → compiler → Django `Q`

The lexer, parser, tree, field maps, limits and regex check are plain Python; `compiler`
and `sorting` are the modules that import Django (and read the limits from the settings). They are re-exported here lazily, so
importing the package for parsing alone does not load the ORM.

    from segments.query import compile_query, compile_sort, SEGMENT_FIELDS, QuerySyntaxError

    filters = compile_query(q, SEGMENT_FIELDS, default_language=tenant.default_language)
    ordering = compile_sort(sort, SEGMENT_FIELDS, default_language=tenant.default_language)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segments.query.ast import Query, QuerySyntaxError
from segments.query.fields import (
    CUSTOMER_ASSIGNMENT_FIELDS,
    GROUP_ASSIGNMENT_FIELDS,
    ITEM_ASSIGNMENT_FIELDS,
    SEGMENT_FIELDS,
    FieldMap,
)
from segments.query.parser import parse_query
from segments.query.regex import check_regex

if TYPE_CHECKING:
    from segments.query.compiler import compile_query
    from segments.query.sorting import compile_sort

__all__ = [
    "CUSTOMER_ASSIGNMENT_FIELDS",
    "GROUP_ASSIGNMENT_FIELDS",
    "ITEM_ASSIGNMENT_FIELDS",
    "SEGMENT_FIELDS",
    "FieldMap",
    "Query",
    "QuerySyntaxError",
    "check_regex",
    "compile_query",
    "compile_sort",
    "parse_query",
]


def __getattr__(name: str) -> object:
    """Load the Django-backed `compile_query` and `compile_sort` on first use."""
    if name == "compile_query":
        from segments.query.compiler import compile_query

        return compile_query
    if name == "compile_sort":
        from segments.query.sorting import compile_sort

        return compile_sort
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
