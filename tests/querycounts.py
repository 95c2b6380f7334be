"""Exact query counts against one checked-in table of baselines.

`assert_same_queries(key, status=...)` returns a checker; every request made through it must
answer `status` and cost exactly the number of queries `tests/query_counts.json` holds for
`key` on the database under test. A test calls it once with one row and once with many (or
a parametrized test once per size), so "the same for one row and for many" is what is
checked, not "at most". The table holds one count per key, or one per database vendor
(`connection.vendor`: "sqlite", "postgresql") where the two differ. Only where a database
itself makes the count depend on the size (SQLite splits a statement past its 999 bound
parameters) does a vendor's entry hold one count per `case` the test names, e.g.
`{"postgresql": 5, "sqlite": {"1": 6, "200": 9}}`: PostgreSQL still proves "the same".

When a change costs more or fewer queries on purpose, rerun the test with
`UPDATE_QUERY_COUNTS=1`: each mismatch then prints the line to put in the table instead of
failing, so the new baseline is reviewed in the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

TABLE = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("UPDATE_QUERY_COUNTS") == "1"


def baselines() -> dict[str, int | dict[str, int]]:
    return json.loads(TABLE.read_text())


def baseline(key: str, vendor: str, case: str | None = None) -> int | None:
    """The count the table holds for `key` on `vendor` (and `case`), or None."""
    entry = baselines().get(key)
    if isinstance(entry, dict):
        entry = entry.get(vendor)
    if isinstance(entry, dict):
        entry = entry.get(str(case))
    return entry


def assert_same_queries(key: str, *, status: int) -> Callable[..., Any]:
    """A checker for `key`: `check(lambda: client.get(url))` returns the response; `case`
    names the size where a database's own limits make it part of the baseline."""

    def check(request: Callable[[], Any], case: object = None) -> Any:
        with CaptureQueriesContext(connection) as queries:
            response = request()
        assert response.status_code == status, (
            f"{key}: expected {status}, got {response.status_code}: {response.content[:500]!r}"
        )
        expected = baseline(key, connection.vendor, None if case is None else str(case))
        if expected == len(queries):
            return response
        where = connection.vendor if case is None else f"{connection.vendor}, case {case!r}"
        fix = (
            f'set "{key}" in {TABLE.name} to {len(queries)} for {where} '
            f'(a number, or {{"sqlite": n, "postgresql": m}} where the databases differ)'
        )
        if UPDATE:
            print(f"\nUPDATE_QUERY_COUNTS: {fix}")
            return response
        statements = "\n".join(
            f"{n}. {q['sql']}" for n, q in enumerate(queries.captured_queries, start=1)
        )
        raise AssertionError(
            f"{key}: {len(queries)} queries on {where}, the baseline is {expected}."
            f" If the change is intended, {fix}; UPDATE_QUERY_COUNTS=1 prints every such"
            f" line.\n{statements}"
        )

    return check
