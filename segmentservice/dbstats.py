"""Per-request database statistics for benchmarks; off unless `DB_QUERY_STATS` is true.

When on, `QueryStatsMiddleware` counts the SQL statements each request runs and answers
them in an `X-DB-Queries` response header, with the worker's CPU time for the request in
`X-Worker-CPU-Ms` (steadier than wall time on a busy machine). When `DB_QUERY_CAPTURE_DIR` is set too, a
request carrying `X-Bench-Capture: NAME` also has its statements written, as literal SQL,
to `NAME.json` in that directory, so a benchmark can replay exactly the same SQL straight
through psycopg and compare (`python -m benchmarks`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

CAPTURE_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")


class QueryStatsMiddleware:
    """Adds `X-DB-Queries: N`; with a capture directory, records the SQL of marked requests."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.capture_dir = (
            Path(settings.DB_QUERY_CAPTURE_DIR) if settings.DB_QUERY_CAPTURE_DIR else None
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.headers.get("X-Bench-Capture", "")
        capture = bool(self.capture_dir and CAPTURE_NAME.match(name))
        statements: list[str] = []

        def record(execute, sql, params, many, context) -> Any:
            if many:
                params = list(params)
            if capture:
                # Before executing: composing the literal resets the cursor's result.
                cursor = context["cursor"]
                for p in params if many else [params]:
                    statements.append(_literal(cursor, sql, p))
            else:
                statements.append("")
            return execute(sql, params, many, context)

        cpu_started = time.thread_time()
        with connection.execute_wrapper(record):
            response = self.get_response(request)
        response["X-Worker-CPU-Ms"] = f"{(time.thread_time() - cpu_started) * 1000:.3f}"
        response["X-DB-Queries"] = str(len(statements))
        if capture:
            (self.capture_dir / f"{name}.json").write_text(json.dumps(statements))
        return response


# Starts a captured statement that the server ran prepared (segmentservice.db.prepared_cursor);
# the floor runs every statement as psycopg does, prepared from its fifth run.
PREPARED = "/* prepared */ "


def _literal(cursor, sql: str, params) -> str:
    """The statement with its values, as literal SQL: what PostgreSQL received from a cursor
    that binds on the client (Django's), or, marked `PREPARED`, what a server-binding one
    sent it as a prepared statement and its parameters."""
    raw = getattr(cursor, "cursor", cursor)
    if isinstance(raw, psycopg.ClientCursor):
        return sql if params is None else raw.mogrify(sql, params)
    if isinstance(raw, psycopg.Cursor):
        return PREPARED + psycopg.ClientCursor(raw.connection).mogrify(sql, params)
    return sql
