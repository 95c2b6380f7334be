"""How much one `q` or `sort` may ask for.

Each limit is a setting (see `.env.example`), named in the message of the error that
enforces it; `compiler.query_limits()` reads them. Without them a long path recursed
past Python's limit while Django built the SQL, thousands of conditions took seconds to
combine and SQLite refused the statement, and thousands of sort fields went past the
number of ORDER BY terms a database takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from segments.query.ast import QuerySyntaxError


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The limits that apply to one `q` and one `sort`."""

    max_length: int  # QUERY_MAX_LENGTH: characters of a q
    max_conditions: int  # QUERY_MAX_CONDITIONS: conditions of a q, see compile_query
    max_path_segments: int  # FIELD_PATH_MAX_SEGMENTS: `mixins.a.b` has three
    max_sort_fields: int  # SORT_MAX_FIELDS: fields of a sort


def shorten(text: str, limit: int = 40) -> str:
    """`text` itself when short, else its start and an ellipsis, for error messages."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def too_many_conditions(limit: int, position: int) -> QuerySyntaxError:
    """The error for a q of more than `limit` conditions, the one past it at `position`."""
    return QuerySyntaxError(
        f"More than {limit} conditions (QUERY_MAX_CONDITIONS)",
        position,
        hint="a range counts one per bound, a list on a JSON path one per value",
    )
