"""Reads on a real streaming replica, writes on the primary, read-your-writes in between.

A primary and a hot standby of their own (tests/streaming_pair.py), gunicorn serving with
DATABASE_URL at the primary and DATABASE_REPLICA_URLS at the standby. With replay paused
on the standby, what one API client writes is what it reads back at once, while another
client still reads the standby's older state, until replay resumes.

Runs in `.ci/replica` (REPLICA_TEST=1); it needs the PostgreSQL server programs and takes
about half a minute, so the ordinary suite skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.conftest import MANAGE, READ
from tests.gunicorn_server import Server, gunicorn
from tests.streaming_pair import Pair, pg_bindir, streaming_pair

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("REPLICA_TEST") != "1",
        reason="starts its own primary and standby; run by .ci/replica (REPLICA_TEST=1)",
    ),
    pytest.mark.skipif(pg_bindir() is None, reason="needs initdb, pg_ctl and pg_basebackup"),
]

DATABASE = "segments"
PIN_SECONDS = 3
WAIT_SECONDS = 20
SEGMENTS = "/customer-segment/shop/segments"


def manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command against the pair; returns its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def token_for(server: Server, env: dict[str, str], name: str) -> str:
    """A new API client's token, through `create_api_client` and `POST /oauth/token`."""
    printed = manage(
        env, "create_api_client", "--tenant", "shop", "--name", name, "--scopes", f"{MANAGE} {READ}"
    )
    values = dict(line.split(": ", 1) for line in printed.splitlines() if ": " in line)
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": values["client_id"].strip(),
            "client_secret": values["client_secret"].strip(),
        }
    )
    answer = server.request(
        "POST",
        "/oauth/token",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200, (answer.status, answer.body)
    return answer.json()["access_token"]


def get(server: Server, token: str, path: str):
    answer = server.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    return answer.status, (answer.json() if answer.body else None)


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting until {what}")
        time.sleep(0.1)


def replayed_everything(pair: Pair) -> bool:
    [(sent,)] = pair.primary.query("SELECT pg_current_wal_lsn()::text")
    [(done,)] = pair.standby.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", params=(sent,))
    return bool(done)


def test_reads_go_to_the_replica_and_a_writer_reads_its_writes():
    report: list[str] = []
    with streaming_pair(os.environ.get("REPLICA_TEST_DIR") or None) as pair:
        pair.primary.query(f"CREATE DATABASE {DATABASE}")
        env = {
            "DATABASE_URL": pair.primary.url(DATABASE),
            "DATABASE_REPLICA_URLS": pair.standby.url(DATABASE),
            "DATABASE_READ_YOUR_WRITES_SECONDS": str(PIN_SECONDS),
        }
        # With the standby configured too: migrate must (and does) leave it alone, since a
        # hot standby refuses every write.
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "create_tenant", "shop")
        wait_until(lambda: replayed_everything(pair), "the standby replayed the migrations")
        report.append(
            f"primary :{pair.primary.port}, standby :{pair.standby.port} streaming; "
            "migrated on the primary, replayed on the standby"
        )

        with gunicorn(env) as server:
            writer = token_for(server, env, "writer")
            reader = token_for(server, env, "reader")
            body = json.dumps({"id": "gold", "name": {"en": "Gold"}, "siteCode": "main"})
            created = server.request(
                "POST",
                SEGMENTS,
                body=body,
                headers={"Authorization": f"Bearer {writer}", "Content-Type": "application/json"},
            )
            assert created.status == 201, created.body
            wait_until(lambda: replayed_everything(pair), "the standby replayed the segment")
            assert get(server, reader, f"{SEGMENTS}/gold")[0] == 200

            pair.standby.query("SELECT pg_wal_replay_pause()")
            wait_until(
                lambda: pair.standby.query("SELECT pg_get_wal_replay_pause_state()")
                == [("paused",)],
                "replay paused",
            )
            # While the standby replays nothing, new API clients still get tokens: the
            # control plane (tenants, API clients) is read from the primary.
            late = token_for(server, env, "late")
            assert pair.standby.query(
                "SELECT count(*) FROM tenants_apiclient WHERE name = 'late'", DATABASE
            ) == [(0,)]

            renamed = json.dumps({"name": {"en": "Gold, renamed"}, "siteCode": "main"})
            put = server.request(
                "PUT",
                f"{SEGMENTS}/gold",
                body=renamed,
                headers={"Authorization": f"Bearer {writer}", "Content-Type": "application/json"},
            )
            assert put.status == 204, put.body
            written_at = time.monotonic()
            # The write is on the primary, not (yet) on the standby.
            names = "SELECT name->>'en', version FROM segments_segment WHERE external_id = 'gold'"
            assert pair.primary.query(names, DATABASE) == [("Gold, renamed", 2)]
            assert pair.standby.query(names, DATABASE) == [("Gold", 1)]

            writer_sees = get(server, writer, f"{SEGMENTS}/gold")
            reader_sees = get(server, reader, f"{SEGMENTS}/gold")
            late_sees = get(server, late, f"{SEGMENTS}/gold")
            assert writer_sees[0] == reader_sees[0] == late_sees[0] == 200
            assert (writer_sees[1]["name"], writer_sees[1]["metadata"]["version"]) == (
                {"en": "Gold, renamed"},
                2,
            )
            assert (reader_sees[1]["name"], reader_sees[1]["metadata"]["version"]) == (
                {"en": "Gold"},
                1,
            )
            assert late_sees[1]["name"] == {"en": "Gold"}
            report.append(
                "replay paused; after the writer's PUT: writer reads version 2 (primary), "
                "reader reads version 1 (standby)"
            )

            # Read-your-writes lasts DATABASE_READ_YOUR_WRITES_SECONDS; after that the writer
            # reads the standby too and, with replay still paused, its write is not there.
            time.sleep(max(0.0, PIN_SECONDS + 0.5 - (time.monotonic() - written_at)))
            status, stale = get(server, writer, f"{SEGMENTS}/gold")
            assert (status, stale["metadata"]["version"]) == (200, 1)
            [(lag,)] = pair.standby.query(
                "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float"
            )
            report.append(
                f"after {PIN_SECONDS} s the writer's pin ran out: it reads version 1 from the "
                f"standby, whose replay lag is now {lag:.1f} s"
            )

            pair.standby.query("SELECT pg_wal_replay_resume()")
            wait_until(
                lambda: get(server, reader, f"{SEGMENTS}/gold")[1]["metadata"]["version"] == 2,
                "the reader sees the write",
            )
            [(state, sync)] = pair.primary.query(
                "SELECT state, sync_state FROM pg_stat_replication"
            )
            assert state == "streaming"
            report.append(
                f"replay resumed: the reader reads version 2; pg_stat_replication: {state}, {sync}"
            )
    print("\n" + "\n".join(f"replica test: {line}" for line in report))
