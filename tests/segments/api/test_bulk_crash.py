"""A worker killed (SIGKILL) in the middle of a bulk write leaves all of it or none of it.

The service runs under gunicorn in a subprocess, on a free loopback port, against this
test's own PostgreSQL database. To kill the worker provably mid-transaction, the test
holds the row lock of the batch's last segment: the worker inserts the other rows, then
waits for that lock inside its transaction. Once PostgreSQL shows its backend waiting,
with a transaction id (it has written rows), the worker gets SIGKILL.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from segments.models import Event, Segment
from tests.concurrency import POSTGRES_RACE
from tests.conftest import MANAGE
from tests.factories import make_segment

pytestmark = POSTGRES_RACE

ROOT = Path(__file__).resolve().parents[3]
GATE = "zzz-gate"  # sorts after every other id of the batch, so it is locked last
BATCH = [f"b{n:03d}" for n in range(199)]
DEADLINE_SECONDS = 20


def this_tests_database_url() -> str:
    """The URL of the database pytest-django made for this test (not the configured one)."""
    db = connection.settings_dict
    assert db["NAME"].startswith("test_"), db["NAME"]
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return (
        f"postgresql://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, what: str, deadline: float):
    """Poll `condition()` until it returns something truthy; fail at the deadline."""
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def children(pid: int) -> list[int]:
    """The ids of the processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": comm may hold spaces, so split after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Server:
    """gunicorn with one sync worker serving the service on a free loopback port."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": settings.SECRET_KEY,
            "TOKEN_SIGNING_KEY": settings.TOKEN_SIGNING_KEY,
            "TOKEN_ISSUER": settings.TOKEN_ISSUER,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, as behind a TLS proxy
            "LOG_LEVEL": "WARNING",
        }
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "segmentservice.wsgi"),
                *("--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "30"),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_when_ready(self, deadline: float) -> int:
        """Wait until the (new) worker answers; returns its process id."""

        def healthy():
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(healthy, "the server to answer", deadline)
        [worker] = wait_for(lambda: children(self.process.pid), "the gunicorn worker", deadline)
        return worker

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck master
            self.process.kill()
            self.process.wait(5)
        self.log.close()


def bulk_put(server: Server, token: str) -> urllib.request.Request:
    mixins = {"note": "x" * 1000}
    body = [
        {
            "id": segment_id,
            "name": {"en": f"Segment {segment_id}"},
            "siteCode": "main",
            "mixins": mixins,
        }
        for segment_id in [*BATCH, GATE]
    ]
    return urllib.request.Request(
        server.url("/customer-segment/acme/segments/bulk"),
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def batch_state() -> str:
    """ "none" or "all" of the batch with its events, in SQL; anything else names the mix."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM segments_segment WHERE tenant_id = 'acme' AND external_id = ANY(%s)",
            [BATCH],
        )
        [segments] = cursor.fetchone()
        cursor.execute(
            "SELECT type, count(*) FROM segments_event WHERE tenant_id = 'acme' GROUP BY type"
        )
        events = dict(cursor.fetchall())
        cursor.execute(
            "SELECT version FROM segments_segment WHERE tenant_id = 'acme' AND external_id = %s",
            [GATE],
        )
        [gate_version] = cursor.fetchone()
    none = (segments, events, gate_version) == (0, {}, 1)
    every = (segments, gate_version) == (len(BATCH), 2) and events == {
        "customer-segment.segment-created": len(BATCH),
        "customer-segment.segment-updated": 1,
    }
    if none or every:
        return "none" if none else "all"
    return f"partial: {segments} segments, events {events}, gate at version {gate_version}"


def test_a_worker_killed_mid_bulk_leaves_none_of_it_and_the_next_worker_writes_all(
    tenant, make_token
):
    deadline = time.monotonic() + DEADLINE_SECONDS
    make_segment(tenant, GATE)
    token = make_token(tenant, MANAGE)
    database_url = this_tests_database_url()
    server = Server(database_url)
    try:
        worker = server.worker_when_ready(deadline)
        with (
            psycopg.connect(database_url) as gate,
            psycopg.connect(database_url, autocommit=True) as watcher,
        ):
            gate.execute(
                "SELECT 1 FROM segments_segment WHERE tenant_id = 'acme' AND external_id = %s"
                " FOR UPDATE",
                [GATE],
            )
            outcome: dict = {}

            def send():
                try:
                    urllib.request.urlopen(bulk_put(server, token), timeout=DEADLINE_SECONDS)
                    outcome["answered"] = True
                except (OSError, http.client.HTTPException) as error:
                    outcome["error"] = error

            client = threading.Thread(target=send)
            client.start()

            def blocked_writer():
                # The worker's backend: inside the INSERT, waiting for the gate's lock,
                # with a transaction id because it has inserted the rows before it.
                return watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL"
                    " AND query LIKE 'INSERT INTO%%segments_segment%%'"
                ).fetchall()

            [(backend,)] = wait_for(blocked_writer, "the worker to block mid-bulk", deadline)
            os.kill(worker, signal.SIGKILL)
            gate.rollback()

            client.join(DEADLINE_SECONDS)
            assert "answered" not in outcome, "the killed worker answered"

            def backend_gone():
                return not watcher.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]
                ).fetchall()

            wait_for(backend_gone, "PostgreSQL to end the killed worker's session", deadline)

        assert batch_state() == "none"

        # The master starts a new worker; the same request now writes everything.
        server.worker_when_ready(deadline)
        with urllib.request.urlopen(bulk_put(server, token), timeout=10) as response:
            assert response.status == 207
            codes = [entry["code"] for entry in json.loads(response.read())]
        assert codes == [201] * len(BATCH) + [204]
        assert batch_state() == "all"
        assert Segment.objects.filter(tenant=tenant).count() == len(BATCH) + 1
        assert Event.objects.count() == len(BATCH) + 1
    finally:
        server.stop()
