"""A database that is down, silent or too slow is a 503 JSON answer within seconds, never a hang
or a 500, and never an answer that shows where the database is.

The servers that face a missing database are real gunicorn subprocesses with their own
DATABASE_URL, so the test database connection of this process is never touched.
"""

from __future__ import annotations

import runpy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client

from segments.models import Segment
from tests.conftest import MANAGE, READ
from tests.factories import make_segment
from tests.gunicorn_server import current_database_url, gunicorn

URL = "/customer-segment/acme/segments"
UNAVAILABLE = {
    "code": 503,
    "status": "Service Unavailable",
    "message": "The database is not available right now; try again shortly.",
}
HEALTH_UNAVAILABLE = {"status": "unavailable", "database": "unavailable"}
# What a driver's message would show about the database's whereabouts.
SECRET_DB = "hiddendbname"
LEAKY = f'connection to server at "db.internal" (10.9.8.7), port 6543 failed: {SECRET_DB}'
ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def assert_no_whereabouts(body: bytes, *words: str) -> None:
    for word in ("db.internal", "10.9.8.7", "6543", SECRET_DB, "127.0.0.1", *words):
        assert word.encode() not in body, (word, body)


@pytest.mark.django_db
class TestDatabaseErrorsInTheApp:
    @pytest.mark.parametrize("error", [OperationalError(LEAKY), InterfaceError(LEAKY)])
    def test_a_lost_database_in_an_api_view_is_503(self, tenant, make_client, monkeypatch, error):
        from segments.api.views import segments as views

        def lost(*args, **kwargs):
            raise error

        monkeypatch.setattr(views.SegmentFilterSet, "apply", lost)
        response = make_client(tenant, READ).get(URL)
        assert response.status_code == 503
        assert response.json() == UNAVAILABLE
        assert_no_whereabouts(response.content)

    def test_a_cancelled_statement_is_503(self, tenant, make_client, monkeypatch):
        from segments.api.views import segments as views

        def cancelled(*args, **kwargs):
            # What Django raises for psycopg's QueryCanceled (statement_timeout).
            raise OperationalError("canceling statement") from psycopg.errors.QueryCanceled(
                "canceling statement due to statement timeout"
            )

        monkeypatch.setattr(views.SegmentFilterSet, "apply", cancelled)
        response = make_client(tenant, READ).get(URL)
        assert (response.status_code, response.json()) == (503, UNAVAILABLE)

    def test_a_statement_over_a_database_limit_is_not_an_outage(
        self, tenant, make_client, monkeypatch
    ):
        # SQLSTATE class 54 (e.g. an index row too large) is about the request, not the
        # database's health: retrying would not help, so it is no 503.
        from segments.api.views import segments as views

        def too_big(*args, **kwargs):
            raise OperationalError("index row too big") from psycopg.errors.ProgramLimitExceeded(
                "index row size 3000 exceeds btree version 4 maximum 2704"
            )

        monkeypatch.setattr(views.SegmentFilterSet, "apply", too_big)
        client = make_client(tenant, READ)
        client.raise_request_exception = False
        assert client.get(URL).status_code == 500

    def test_health_answers_503_without_the_drivers_message(self, client, monkeypatch):
        from segmentservice.api import views

        class LostConnection:
            def cursor(self):
                raise OperationalError(LEAKY)

        monkeypatch.setattr(views, "connection", LostConnection())
        response = client.get("/healthz")
        assert (response.status_code, response.json()) == (503, HEALTH_UNAVAILABLE)
        assert_no_whereabouts(response.content)


class LostDatabaseMiddleware:
    """Stands for any code outside a DRF view that finds the database gone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raise OperationalError(LEAKY)


@pytest.mark.django_db
class TestDatabaseErrorsOutsideDRF:
    @pytest.fixture(autouse=True)
    def _lost_database(self, settings):
        settings.MIDDLEWARE = [f"{__name__}.LostDatabaseMiddleware"]

    def test_api_path_answers_503_json(self):
        response = Client(raise_request_exception=False).get(URL)
        assert response.status_code == 503
        assert response.json() == UNAVAILABLE

    def test_admin_answers_503_html(self):
        response = Client(raise_request_exception=False).get("/admin/")
        assert response.status_code == 503
        assert response["Content-Type"].startswith("text/html")
        assert_no_whereabouts(response.content)


def test_postgres_connections_get_bounded_timeouts_by_default(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/anything")
    for name in ("DATABASE_CONNECT_TIMEOUT", "DATABASE_STATEMENT_TIMEOUT_MS"):
        monkeypatch.delenv(name, raising=False)
    options = runpy.run_path(str(Path(settings.BASE_DIR) / "segmentservice" / "settings.py"))[
        "DATABASES"
    ]["default"]["OPTIONS"]
    assert options["connect_timeout"] == 5
    assert "-c statement_timeout=30000 " in options["options"] + " "


def test_sqlite_waits_for_locks_as_long_as_the_statement_timeout(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///unused.sqlite3")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "2500")
    options = runpy.run_path(str(Path(settings.BASE_DIR) / "segmentservice" / "settings.py"))[
        "DATABASES"
    ]["default"]["OPTIONS"]
    assert options["timeout"] == 2.5


def free_port() -> int:
    """A loopback port where nothing listens (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def silent_database() -> Iterator[int]:
    """A loopback port that completes every TCP handshake and never says a word.

    The kernel accepts connections into the listen backlog by itself, so no thread has
    to: the client's startup packet simply goes unanswered.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def api_and_health(server, token: str) -> list:
    return [
        server.request("GET", URL, headers={"Authorization": f"Bearer {token}"}),
        server.request("GET", "/healthz"),
    ]


class TestAGunicornWhoseDatabaseIsGone:
    def test_refused_connection_is_503_at_once(self, make_token):
        port = free_port()
        url = f"postgres://postgres@127.0.0.1:{port}/{SECRET_DB}"
        with gunicorn({"DATABASE_URL": url}) as server:
            api, health = api_and_health(server, make_token("acme", READ))
        assert (api.status, api.json()) == (503, UNAVAILABLE), api
        assert (health.status, health.json()) == (503, HEALTH_UNAVAILABLE), health
        for answer in (api, health):
            assert answer.seconds < 2, answer
            assert_no_whereabouts(answer.body, str(port))

    def test_silent_database_is_503_within_the_connect_timeout(self, make_token):
        with silent_database() as port:
            url = f"postgres://postgres@127.0.0.1:{port}/{SECRET_DB}"
            with gunicorn({"DATABASE_URL": url, "DATABASE_CONNECT_TIMEOUT": "2"}) as server:
                api, health = api_and_health(server, make_token("acme", READ))
        assert (api.status, api.json()) == (503, UNAVAILABLE), api
        assert (health.status, health.json()) == (503, HEALTH_UNAVAILABLE), health
        for answer in (api, health):
            assert 1.5 < answer.seconds < 5, answer
            assert_no_whereabouts(answer.body, str(port))


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="statement_timeout is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_statement_timeout_is_503_and_the_next_request_works(
    tenant, make_token
):
    make_segment(tenant, "gold")
    token = make_token(tenant, MANAGE, READ)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = '{"name": {"en": "Gold"}, "siteCode": "main"}'
    env = {"DATABASE_URL": current_database_url(), "DATABASE_STATEMENT_TIMEOUT_MS": "1000"}
    with gunicorn(env) as server, psycopg.connect(current_database_url()) as locker:
        # Another session holds the segment's row, so the upsert's SELECT ... FOR UPDATE waits.
        locker.execute(
            f"SELECT 1 FROM {Segment._meta.db_table} WHERE external_id = %s FOR UPDATE", ["gold"]
        )
        waited = server.request("PUT", f"{URL}/gold", body=body, headers=headers)
        locker.rollback()
        after = server.request("PUT", f"{URL}/gold", body=body, headers=headers)
    assert (waited.status, waited.json()) == (503, UNAVAILABLE), waited
    assert 0.9 < waited.seconds < 4, waited
    assert after.status == 204, after
    assert Segment.objects.get(external_id="gold").name == {"en": "Gold"}
