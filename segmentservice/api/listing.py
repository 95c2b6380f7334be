"""The list conventions every list and search endpoint shares (SPEC §6), as DRF seams.

`pageNumber` (from 1) and `pageSize` (default 60, at most 1000), and `X-Total-Count: true`
asking for the number of matches in a response header: `ContractPagination`. `fields=id,
name,metadata.version`: `FieldsFilter`. `q` (query string, or the body's `q` on `/search`):
`QueryFilter`. `sort=field:ASC,other:DESC` with ties broken by id: `SortFilter`. A viewset
declares them (`filter_backends`, `pagination_class`) and names its resource's allow-list of
fields (`query_fields`) and its tie-break (`ordering_tiebreak`); the `q` and `sort` texts are
compiled by `segments.query` against that allow-list. Each seam describes its own OpenAPI
parameters, so the schema follows from what a viewset declares.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from segments.query.describe import q_description
from segmentservice.exceptions import ValidationFailed

# Far past any real list, and small enough that the row offset fits the databases' 64-bit
# integers (a larger one made PostgreSQL and SQLite fail instead of answering a 400).
PAGE_NUMBER_MAX = 1_000_000_000
# The actions that read `q` from the body (`{"q": "..."}`), not from the query string.
BODY_QUERY_ACTIONS = frozenset({"search"})


def _query_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"in": "query", "name": name, "schema": schema, "description": description}


def _positive_int(raw: str | None, name: str, default: int, maximum: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ValidationFailed(f"{name} must be 1 or more, not {value}.")
    if maximum is not None and value > maximum:
        raise ValidationFailed(f"{name} must be at most {maximum}, not {value}.")
    return value


def page_parameters(request: Request) -> tuple[int, int]:
    """(page number, page size); one ValidationFailed naming every bad parameter."""
    query = request.query_params
    expected = {
        "pageSize": (settings.PAGE_SIZE_DEFAULT, settings.PAGE_SIZE_MAX),
        "pageNumber": (1, PAGE_NUMBER_MAX),
    }
    values: dict[str, int] = {}
    problems: list[str] = []
    for name, (default, maximum) in expected.items():
        try:
            values[name] = _positive_int(query.get(name), name, default, maximum)
        except ValidationFailed as exc:
            problems.append(exc.message)
    if problems:
        raise ValidationFailed(" ".join(problems))
    return values["pageNumber"], values["pageSize"]


def page_slice(request: Request) -> slice:
    """The rows of the requested page, as a slice of the list; checks the parameters."""
    page_number, page_size = page_parameters(request)
    offset = (page_number - 1) * page_size
    return slice(offset, offset + page_size)


def total_requested(request: Request) -> bool:
    """Whether the request asks for the number of matches (`X-Total-Count: true`)."""
    return request.headers.get("X-Total-Count", "").strip().lower() == "true"


class ContractPagination(BasePagination):
    """`pageNumber`/`pageSize` pages of a plain JSON array; `X-Total-Count: true` adds the
    number of matches as a response header."""

    # The number of matches for the header: only when asked for, and set by
    # `paginate_queryset`; a page read otherwise (a compiled read) has none.
    total: int | None = None

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list:
        """The rows of the requested page; reads and checks the paging parameters."""
        page = page_slice(request)
        rows = list(queryset[page])
        self.total = None
        if total_requested(request):
            # Avoid the COUNT query when the page itself proves the total.
            if page.start == 0 and len(rows) < page.stop - page.start:
                self.total = len(rows)
            else:
                self.total = queryset.order_by().count()
        return rows

    def get_paginated_response(self, data: list) -> Response:
        """The 200 response: the page's documents and, when asked, `X-Total-Count`."""
        headers = {"X-Total-Count": str(self.total)} if self.total is not None else None
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A page is the plain array of its documents."""
        return schema

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """`pageSize`, `pageNumber` and the `X-Total-Count` request header."""
        return [
            _query_parameter(
                "pageSize",
                {"type": "integer", "minimum": 1, "maximum": settings.PAGE_SIZE_MAX},
                f"Page size, 1 to {settings.PAGE_SIZE_MAX}, default {settings.PAGE_SIZE_DEFAULT}.",
            ),
            _query_parameter(
                "pageNumber",
                {"type": "integer", "minimum": 1, "maximum": PAGE_NUMBER_MAX},
                "Page number, from 1.",
            ),
            # A string, not a boolean: any other value than `true` is read as "no count".
            {
                "in": "header",
                "name": "X-Total-Count",
                "schema": {"type": "string"},
                "description": "`true` adds the X-Total-Count response header; any other "
                "value does not.",
            },
        ]


def _compile(text: str, kind: str, view: Any):
    # Imported here: the query language belongs to the segments app, this module to all apps.
    from segments.query import QuerySyntaxError
    from segments.query.compiler import compile_query
    from segments.query.sorting import compile_sort

    compile_text = compile_query if kind == "q" else compile_sort
    try:
        return compile_text(text, view.query_fields, default_language=view.tenant.default_language)
    except QuerySyntaxError as exc:
        raise ValidationFailed(f"Invalid query: {exc.message}") from exc


def body_query(request: Request) -> str:
    """The `q` of a search body: `{"q": "..."}`, or nothing for an empty or null body."""
    body = request.data
    if body in (None, "") or body == {}:
        return ""
    if not isinstance(body, dict):
        raise ValidationFailed('The search body must be a JSON object like {"q": "..."}.')
    unknown = sorted(set(body) - {"q"})
    if unknown:
        raise ValidationFailed(
            f"Unknown search field(s): {', '.join(unknown)}; only 'q' is accepted."
        )
    q = body.get("q", "")
    if q is None:
        return ""
    if not isinstance(q, str):
        raise ValidationFailed("q must be a string.")
    return q


class QueryFilter(BaseFilterBackend):
    """`q`: the query string's, or on `/search` the body's, over `view.query_fields`."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        """The rows matching `q`."""
        if view.action in BODY_QUERY_ACTIONS:
            q = body_query(request)
        else:
            q = request.query_params.get("q", "")
        return queryset.filter(_compile(q, "q", view))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """`q` in the query string, except where the body carries it."""
        if view.action in BODY_QUERY_ACTIONS:
            return []
        return [
            _query_parameter(
                "q",
                {"type": "string"},
                "Filter, e.g. `siteCode:main status:ACTIVE name.en:~(Gold)`. "
                + q_description()
                + "\n\nSee docs/query-language.md.",
            )
        ]


class SortFilter(BaseFilterBackend):
    """`sort` over `view.query_fields`, ties broken by `view.ordering_tiebreak`."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        """The rows in the asked order; every order is stable."""
        ordering = _compile(request.query_params.get("sort", "").strip(), "sort", view)
        return queryset.order_by(*ordering, *view.ordering_tiebreak)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """`sort`."""
        return [
            _query_parameter(
                "sort",
                {"type": "string"},
                "e.g. `name.en:ASC,metadata.createdAt:DESC`; ties broken by id.",
            )
        ]


def requested_fields(request: Request, *, strict: bool = True) -> tuple[str, ...] | None:
    """The `fields` asked for, or None for all; `strict` refuses a `fields` naming none."""
    text = request.query_params.get("fields", "").strip()
    if not text:
        return None
    fields = fields_param(text)
    if not fields and strict:
        raise ValidationFailed("fields must name at least one field.")
    return fields


def fields_param(text: str) -> tuple[str, ...]:
    """The paths a `fields` parameter names, within FIELDS_MAX_PATHS and FIELD_PATH_MAX_SEGMENTS."""
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    if len(fields) > settings.FIELDS_MAX_PATHS:
        raise ValidationFailed(
            f"fields names more than {settings.FIELDS_MAX_PATHS} paths (FIELDS_MAX_PATHS)."
        )
    max_segments = settings.FIELD_PATH_MAX_SEGMENTS
    for path in fields:
        segments = path.count(".") + 1
        if segments > max_segments:
            shown = path if len(path) <= 40 else f"{path[:40]}…"
            raise ValidationFailed(
                f"fields: the path '{shown}' has {segments} segments, more than "
                f"{max_segments} (FIELD_PATH_MAX_SEGMENTS)."
            )
    return fields


class FieldsFilter(BaseFilterBackend):
    """`fields`: which fields of each document a list renders (see `project`).

    It keeps every row; it checks the parameter before the rows are read.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        """The rows unchanged, once `fields` is known to be valid."""
        requested_fields(request)
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """`fields`."""
        return [
            _query_parameter(
                "fields", {"type": "string"}, "Only these fields, e.g. `id,name,metadata.version`."
            )
        ]


LIST_BACKENDS = [FieldsFilter, QueryFilter, SortFilter]


def project(document: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only `fields` (dotted paths allowed) of a rendered document."""
    if not fields:
        return document
    result: dict[str, Any] = {}
    for path in fields:
        parts = path.split(".")
        source: Any = document
        for part in parts:
            if not isinstance(source, dict) or part not in source:
                source = _MISSING
                break
            source = source[part]
        if source is _MISSING:
            continue
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = source
    return result


_MISSING = object()
