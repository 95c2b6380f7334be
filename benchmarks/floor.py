"""The floor: the same SQL a request ran, replayed straight through psycopg.

The server writes each captured request's statements as literal SQL (Django binds
parameters on the client with psycopg 3, so this is exactly what PostgreSQL received; a
statement the server ran prepared, its hot reads through `segmentservice.db.prepared_cursor`,
is marked so).
Replaying them on one persistent connection, with the options Django sets, measures what
the database itself needs for the request: round trips, execution and fetching the rows —
and nothing of HTTP, Django or serialization. Nor planning: the statements run through
psycopg's own cursor, which prepares a statement on its fifth run on a connection (its
`prepare_threshold`), so PostgreSQL plans each once; every floor in these files was taken
so. The server planned every statement on every request until its hot reads became
prepared statements as well.
"""

from __future__ import annotations

import time

import psycopg

from benchmarks.client import percentile


def floor_connect(url: str) -> psycopg.Connection:
    """A connection with the server's settings: autocommit, UTC, statement timeout, no JIT."""
    conn = psycopg.connect(url, autocommit=True, options="-c statement_timeout=30000 -c jit=off")
    conn.execute("SET TIME ZONE 'UTC'")
    return conn


def floor_measure(
    conn: psycopg.Connection, statements: list[str], *, iterations: int, write: bool
) -> dict[str, float]:
    """p50 and p95 seconds of running `statements` in order, fetching every row.

    Writes (and anything with savepoints) run in one transaction and commit, as the
    server's atomic services do.
    """
    write = write or any(sql.startswith("SAVEPOINT") for sql in statements)
    seconds = []
    for _ in range(iterations):
        started = time.perf_counter()
        if write:
            with conn.transaction(), conn.cursor() as cursor:
                _run(cursor, statements)
        else:
            with conn.cursor() as cursor:
                _run(cursor, statements)
        seconds.append(time.perf_counter() - started)
    return {"p50": percentile(seconds, 50), "p95": percentile(seconds, 95)}


def _run(cursor: psycopg.Cursor, statements: list[str]) -> None:
    for sql in statements:
        cursor.execute(sql)
        if cursor.description is not None:
            cursor.fetchall()
