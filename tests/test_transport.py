"""What reaches the app through a real HTTP server: chunked bodies, long request lines, and
the few answers gunicorn gives itself before Django runs."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings

from segments.models import Segment
from tests.conftest import MANAGE, READ
from tests.factories import make_segment
from tests.gunicorn_server import Server, current_database_url, gunicorn

URL = "/customer-segment/acme/segments"
GOLD = {"name": {"en": "Gold customers"}, "siteCode": "main", "status": "ACTIVE"}
ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]

# The gunicorn subprocess can only share a test database that lives on a server.
THROUGH_GUNICORN_ON_POSTGRES = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="gunicorn needs a database it can share"),
    pytest.mark.django_db(transaction=True),
]


def wsgi_call(environ: dict) -> tuple[int, dict[str, str], bytes]:
    """Call the project's WSGI application (`segmentservice.wsgi`) with a hand-made environ.

    As Django's test client does, the request signals do not close the test's connection.
    """
    from segmentservice.wsgi import application

    started: dict = {}

    def start_response(status: str, headers: list, exc_info=None) -> None:
        started["status"] = int(status.split()[0])
        started["headers"] = {k.lower(): v for k, v in headers}

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], body


def chunked_environ(method: str, path: str, body: bytes, token: str) -> dict:
    """What gunicorn hands the app for a chunked request: no CONTENT_LENGTH, a de-chunked
    `wsgi.input` and `wsgi.input_terminated`."""
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


@pytest.mark.django_db
class TestChunkedBodiesInTheWSGIApplication:
    def test_chunked_put_creates_the_segment(self, tenant, make_token, make_client):
        token = make_token(tenant, MANAGE)
        environ = chunked_environ("PUT", f"{URL}/gold", json.dumps(GOLD).encode(), token)
        status, _, body = wsgi_call(environ)
        assert (status, json.loads(body)) == (201, {"id": "gold"})
        shown = make_client(tenant, READ).get(f"{URL}/gold").json()
        assert (shown["id"], shown["name"]) == ("gold", {"en": "Gold customers"})

    @override_settings(MAX_REQUEST_BODY_BYTES=1000)
    def test_chunked_body_of_exactly_the_limit_is_read(self, tenant, make_token):
        document = json.dumps(GOLD).encode()
        padded = document + b" " * (1000 - len(document))
        environ = chunked_environ("PUT", f"{URL}/gold", padded, make_token(tenant, MANAGE))
        status, _, body = wsgi_call(environ)
        assert (status, json.loads(body)) == (201, {"id": "gold"})

    @override_settings(MAX_REQUEST_BODY_BYTES=1000)
    def test_chunked_body_over_the_limit_is_413_and_nothing_is_written(self, tenant, make_token):
        document = json.dumps(GOLD).encode()
        padded = document + b" " * (1001 - len(document))
        environ = chunked_environ("PUT", f"{URL}/gold", padded, make_token(tenant, MANAGE))
        status, headers, body = wsgi_call(environ)
        assert status == 413
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {
            "code": 413,
            "status": HTTPStatus(413).phrase,
            "message": "The request body is over 1000 bytes; at most 1000 bytes are accepted.",
        }
        assert not Segment.objects.filter(external_id="gold").exists()

    def test_a_server_that_does_not_end_the_input_is_not_read_past_content_length(
        self, tenant, make_token
    ):
        # Without wsgi.input_terminated the stream may block at its end: no length, no body.
        environ = chunked_environ("PUT", f"{URL}/gold", b"{}", make_token(tenant, MANAGE))
        environ["wsgi.input_terminated"] = False
        status, _, body = wsgi_call(environ)
        assert status == 400
        assert json.loads(body)["message"] == (
            "name: This field is required.; siteCode: This field is required."
        )


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> Iterator[Server]:
    """gunicorn with the repository's gunicorn.conf.py, on the test database when it can be shared."""
    with tempfile.TemporaryDirectory() as scratch:
        url = current_database_url() if ON_POSTGRES else f"sqlite:///{scratch}/unused.sqlite3"
        with gunicorn({"DATABASE_URL": url}) as running:
            yield running


class TestThroughGunicornOnPostgres:
    pytestmark = THROUGH_GUNICORN_ON_POSTGRES

    def test_chunked_put_creates_the_segment(self, server, tenant, make_token):
        token = make_token(tenant, MANAGE, READ)
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = iter([json.dumps(GOLD).encode()[:10], json.dumps(GOLD).encode()[10:]])
        created = server.request("PUT", f"{URL}/gold", body=body, headers=auth, chunked=True)
        assert (created.status, created.json()) == (201, {"id": "gold"}), created
        shown = server.request("GET", f"{URL}/gold", headers=auth)
        assert shown.status == 200
        assert (shown.json()["id"], shown.json()["name"]) == ("gold", {"en": "Gold customers"})

    def test_a_long_ordinary_q_is_answered_by_the_app(self, server, tenant, make_token):
        make_segment(tenant, "segment-00007")
        ids = [f"segment-{n:05d}" for n in range(430)]
        q = f"id:({','.join(ids)})"
        assert len(q) > 6000
        path = f"{URL}?{urlencode({'q': q, 'fields': 'id'})}"
        auth = {"Authorization": f"Bearer {make_token(tenant, READ)}"}
        answer = server.request("GET", path, headers=auth)
        assert (answer.status, answer.json()) == (200, [{"id": "segment-00007"}]), answer


class TestChunkedBodiesThroughGunicorn:
    """Answered before Django runs, so on any database."""

    def test_chunked_body_of_ten_megabytes_and_one_byte_is_413_json(self, server, make_token):
        limit = 10 * 1024 * 1024
        auth = {
            "Authorization": f"Bearer {make_token('acme', MANAGE)}",
            "Content-Type": "application/json",
        }
        chunk = b" " * (1024 * 1024)
        body = iter([*([chunk] * 10), b"{"])
        answer = server.request("PUT", f"{URL}/gold", body=body, headers=auth, chunked=True)
        assert answer.status == 413, answer
        assert answer.json() == {
            "code": 413,
            "status": HTTPStatus(413).phrase,
            "message": f"The request body is over {limit} bytes; at most {limit} bytes are accepted.",
        }

    @pytest.mark.parametrize(
        ("framing", "problem"),
        [
            (b"zz\r\nabc\r\n0\r\n\r\n", "Invalid chunk size: b'zz'"),
            (b"5\r\nabc\r\n0\r\n\r\n", "Invalid chunk terminator is not '\\r\\n': b'0\\r'"),
        ],
    )
    def test_broken_chunked_framing_is_400_json(self, server, framing, problem):
        head = (
            b"PUT /customer-segment/acme/segments/gold HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        answer = server.raw(head + framing)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 400 Bad Request"
        assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {
            "code": 400,
            "status": "Bad Request",
            "message": f"The chunked request body is malformed: {problem}.",
        }


class TestGunicornsOwnAnswers:
    """The requests gunicorn refuses before Django runs, as the README lists them."""

    def test_a_request_line_over_8190_bytes_is_gunicorns_400(self, server):
        line = b"GET /healthz?pad=" + b"x" * 8200 + b" HTTP/1.1\r\n"
        answer = server.raw(line + b"Host: 127.0.0.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"Content-Type: text/html" in answer
        assert b"Request Line is too large" in answer

    def test_more_than_100_headers_is_gunicorns_431(self, server):
        headers = b"".join(b"X-Filler-%d: y\r\n" % n for n in range(101))
        answer = server.raw(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
        assert b"Content-Type: text/html" in answer

    def test_a_header_over_8190_bytes_is_gunicorns_431(self, server):
        header = b"X-Filler: " + b"y" * 8200 + b"\r\n"
        answer = server.raw(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")

    def test_a_bad_content_length_is_gunicorns_400(self, server):
        answer = server.raw(
            b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ten\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"Content-Type: text/html" in answer


def test_gunicorn_limits_are_the_documented_ones(monkeypatch, tmp_path):
    # The file names a metrics directory in the environment when none is set: give it one,
    # so this process's metrics (the other tests') stay single-process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    config: dict = {}
    path = os.path.join(settings.BASE_DIR, "gunicorn.conf.py")
    with open(path, encoding="utf-8") as handle:
        exec(compile(handle.read(), path, "exec"), config)
    assert (
        config["limit_request_line"],
        config["limit_request_fields"],
        config["limit_request_field_size"],
    ) == (8190, 100, 8190)


class TestGunicornStops:
    """Answered before Django runs, so on any database."""

    def test_workers_that_exit_together_leave_no_traceback(self, tmp_path):
        # The master hears of each exit in a signal handler (child_exit), which may run
        # again while the first is still running: it must not import anything then.
        for _ in range(3):
            with gunicorn({"DATABASE_URL": f"sqlite:///{tmp_path}/unused.sqlite3"}, workers=4) as s:
                pass
            assert "Traceback" not in s.exit_log[0], s.exit_log[0]
