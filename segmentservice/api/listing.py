"""The list conventions every list and search endpoint shares (SPEC §6).

`pageNumber` (from 1) and `pageSize` (default 60, at most 1000); `sort=field:ASC,other:DESC`
with ties broken by id; `fields=id,name,metadata.version`; `X-Total-Count: true` asks for
the number of matches in a response header; `q` filters (query string, or the body's `q`
on `/search`). The `q` and `sort` texts are compiled by `segments.query` against the
resource's allow-list of fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from segmentservice.exceptions import ValidationFailed

# Far past any real list, and small enough that the row offset fits the databases' 64-bit
# integers (a larger one made PostgreSQL and SQLite fail instead of answering a 400).
PAGE_NUMBER_MAX = 1_000_000_000


@dataclass(frozen=True)
class ListParams:
    """What a client asked of a list: filter, order, page, projection and count."""

    q: str
    sort: str
    page_number: int
    page_size: int
    fields: tuple[str, ...] | None
    want_total: bool

    @classmethod
    def from_request(cls, request: Request, *, q_in_body: bool = False) -> ListParams:
        """Read and check the list parameters; raises ValidationFailed naming the bad one."""
        query = request.query_params
        if q_in_body:
            body = request.data
            if body in (None, "") or body == {}:
                q = ""
            elif isinstance(body, dict):
                q = body.get("q", "")
                unknown = sorted(set(body) - {"q"})
                if unknown:
                    raise ValidationFailed(
                        f"Unknown search field(s): {', '.join(unknown)}; only 'q' is accepted."
                    )
            else:
                raise ValidationFailed('The search body must be a JSON object like {"q": "..."}.')
            if q is None:
                q = ""
            if not isinstance(q, str):
                raise ValidationFailed("q must be a string.")
        else:
            q = query.get("q", "")
        fields_text = query.get("fields", "").strip()
        fields = None
        if fields_text:
            fields = fields_param(fields_text)
            if not fields:
                raise ValidationFailed("fields must name at least one field.")
        return cls(
            q=q,
            sort=query.get("sort", "").strip(),
            page_number=_positive_int(query.get("pageNumber"), "pageNumber", 1, PAGE_NUMBER_MAX),
            page_size=_positive_int(
                query.get("pageSize"),
                "pageSize",
                settings.PAGE_SIZE_DEFAULT,
                settings.PAGE_SIZE_MAX,
            ),
            fields=fields,
            want_total=request.headers.get("X-Total-Count", "").strip().lower() == "true",
        )

    @property
    def offset(self) -> int:
        """How many rows come before the page."""
        return (self.page_number - 1) * self.page_size


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


def apply_query(
    queryset: QuerySet,
    params: ListParams,
    *,
    field_map: dict,
    default_language: str,
    tiebreak: tuple[str, ...],
) -> QuerySet:
    """Filter by `q` and order by `sort`, ties broken by `tiebreak` so every order is stable."""
    # Imported here: the query language belongs to the segments app, this module to all apps.
    from segments.query import QuerySyntaxError
    from segments.query.compiler import compile_query
    from segments.query.sorting import compile_sort

    try:
        condition = compile_query(params.q, field_map, default_language=default_language)
        ordering = compile_sort(params.sort, field_map, default_language=default_language)
    except QuerySyntaxError as exc:
        raise ValidationFailed(f"Invalid query: {exc.message}") from exc
    return queryset.filter(condition).order_by(*ordering, *tiebreak)


def paginate(queryset: QuerySet, params: ListParams) -> tuple[list[Any], int | None]:
    """The rows of the requested page, and the total when the client asked for it."""
    rows = list(queryset[params.offset : params.offset + params.page_size])
    total = None
    if params.want_total:
        # Avoid the COUNT query when the page itself proves the total.
        if params.offset == 0 and len(rows) < params.page_size:
            total = len(rows)
        else:
            total = queryset.order_by().count()
    return rows, total


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


def list_response(
    rows: Iterable[Any],
    params: ListParams,
    total: int | None,
    render: Callable[[Any], dict[str, Any]],
) -> Response:
    """The 200 response: rendered, projected rows and, when asked, `X-Total-Count`."""
    body = [project(render(row), params.fields) for row in rows]
    headers = {"X-Total-Count": str(total)} if total is not None else None
    return Response(body, headers=headers)
