"""The hot reads run as prepared statements on PostgreSQL (`segmentservice.db.prepared_cursor`).

PostgreSQL then plans a statement once per connection instead of on every request. What
a client gets, the queries a request costs and the SQL the debug cursor records stay the
same; with `DATABASE_PREPARED_STATEMENTS` off (no `prepare_threshold`) nothing is prepared.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import ProgrammingError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from benchmarks.floor import floor_measure
from segmentservice.db import prepared_cursor
from segmentservice.dbstats import PREPARED
from tests.conftest import MANAGE, READ_OWN, postgres_only
from tests.factories import (
    assign_customer,
    assign_product,
    make_customer,
    make_product,
    make_segment,
)

pytestmark = [*postgres_only("prepared statements are PostgreSQL's"), pytest.mark.django_db]

OWN = "/customer-segment/acme/segments"
RUNS = 8  # psycopg prepares on the 5th run (prepare_threshold), then reuses it


@pytest.fixture
def customer(tenant, make_client):
    c1 = make_customer(tenant, "c1")
    for name in ("gold", "silver"):
        assign_customer(make_segment(tenant, name), c1)
    make_segment(tenant, "bronze")
    return make_client(tenant, READ_OWN, customer="c1")


def prepared_statements() -> dict[str, int]:
    """The statements this connection holds prepared, with the times each was run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE name LIKE '\\_pg3\\_%%'"
        )
        return dict(cursor.fetchall())


def runs_of(statements: dict[str, int], *fragments: str) -> int:
    """How often the one prepared statement that holds every fragment ran."""
    [runs] = [n for sql, n in statements.items() if all(f in sql for f in fragments)]
    return runs


def test_a_customers_read_is_planned_once_and_answers_as_before(customer):
    answers, counts, recorded = [], [], []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            response = customer.get(OWN)
        answers.append((response.status_code, response.json(), response["ETag"]))
        counts.append(len(queries))
        recorded.append([q["sql"] for q in queries.captured_queries])

    assert answers == [answers[0]] * RUNS
    assert [name["id"] for name in answers[0][1]] == ["gold", "silver"]
    assert counts == [3] * RUNS
    # The debug cursor records each statement with its values, prepared or not (the segment
    # ids hold the instant of the request).
    assert [recorded[-1][0], recorded[-1][2]] == [recorded[0][0], recorded[0][2]]
    assert "WHERE t.name = 'acme'" in recorded[-1][0]
    assert "'c1'" in recorded[-1][1]
    held = prepared_statements()
    # The tenant and its counter, the customer's segment ids: prepared, then run again.
    assert runs_of(held, "FROM tenants_tenant t LEFT JOIN", "WHERE t.name = $1") >= 2
    assert runs_of(held, "segments_customerassignment", "$1") >= 2


def test_match_is_bound_on_the_client_never_prepared(tenant, make_client):
    """Its generic plan, for no values in particular, took 200 ms against 8 ms."""
    assign_product(make_segment(tenant, "gold"), make_product(tenant, "p1"))
    client = make_client(tenant, MANAGE)
    body = {"siteCode": "main", "items": [{"id": "p1"}], "segmentIds": ["gold"]}
    for _ in range(RUNS):
        response = client.post("/customer-segment/acme/segments/match", body, format="json")
        assert (response.status_code, response.json()) == (200, [{"id": "p1"}])

    held = prepared_statements()
    assert runs_of(held, "FROM tenants_tenant t LEFT JOIN") >= 2
    assert [sql for sql in held if "segments_itemassignment" in sql] == []


def test_with_prepared_statements_off_nothing_is_prepared(customer, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)
    first = customer.get(OWN)
    for _ in range(RUNS - 1):
        again = customer.get(OWN)

    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert prepared_statements() == {}


def test_a_failing_prepared_statement_is_djangos_database_error(db):
    with pytest.raises(ProgrammingError, match="no_such_table"), prepared_cursor(connection) as c:
        c.execute("SELECT * FROM no_such_table WHERE id = %s", [1])


def test_the_benchmark_captures_prepared_statements_as_such_and_replays_them(customer, tmp_path):
    stats = "segmentservice.dbstats.QueryStatsMiddleware"
    with override_settings(
        MIDDLEWARE=[stats, *settings.MIDDLEWARE], DB_QUERY_CAPTURE_DIR=str(tmp_path)
    ):
        token = customer._credentials["HTTP_AUTHORIZATION"]
        response = Client().get(OWN, HTTP_AUTHORIZATION=token, HTTP_X_BENCH_CAPTURE="own")

    assert response.status_code == 200
    statements = json.loads((tmp_path / "own.json").read_text())
    assert len(statements) == int(response["X-DB-Queries"]) == 3
    assert all(sql.startswith(PREPARED) for sql in statements)
    assert "WHERE t.name = 'acme'" in statements[0]
    floor = floor_measure(connection.connection, statements, iterations=3, write=False)
    assert 0 < floor["p50"] <= floor["p95"]
