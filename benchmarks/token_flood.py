"""API latency while loops of bad client secrets hit `/oauth/token`, on a loopback gunicorn.

    .venv/bin/python -m benchmarks.token_flood [--loops 8] [--seconds 20] [--workers N]
        [--cache-url redis://127.0.0.1:6379/7]

Serves a fresh SQLite database from a temporary directory, creates a tenant, an API client
and a token, then measures `GET /segments` alone and while `--loops` threads post wrong
secrets for that client as fast as they get answers. Every loop stops after `--seconds`
(and at most 2,000 requests); gunicorn is stopped at the end. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
TENANT = "flood"
READ = "customersegment.segment_read"
MAX_REQUESTS_PER_LOOP = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--cache-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{directory}/db.sqlite3",
            "SECRET_KEY": "token-flood-only",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "CACHE_URL": args.cache_url,
        }
        client_id, token = _prepare(env)
        port = _free_port()
        command = [GUNICORN, "segmentservice.wsgi", "-c", "gunicorn.conf.py"]
        command += ["--bind", f"127.0.0.1:{port}"]
        if args.workers:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        try:
            _wait_until_up(port)
            print(json.dumps(_measure(port, client_id, token, args), indent=2))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _prepare(env: dict[str, str]) -> tuple[str, str]:
    def manage(*args: str) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    manage("migrate", "--no-input", "-v", "0")
    manage("create_tenant", TENANT)
    printed = manage("create_api_client", "--tenant", TENANT, "--scopes", READ)
    client_id = printed.split("client_id:")[1].split()[0]
    token = manage("issue_token", "--tenant", TENANT, "--scopes", READ).strip()
    return client_id, token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not come up")


def _request(port: int, method: str, path: str, body: str | None = None, headers=None):
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def _api_call(port: int, token: str):
    return _request(
        port,
        "GET",
        f"/customer-segment/{TENANT}/segments",
        headers={"Authorization": f"Bearer {token}"},
    )


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _measure(port: int, client_id: str, token: str, args) -> dict:
    baseline = [_api_call(port, token)[1] for _ in range(30)]
    stop = threading.Event()
    token_replies: list[tuple[int, float]] = []
    lock = threading.Lock()
    body = urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"}
    )
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def loop() -> None:
        for _ in range(MAX_REQUESTS_PER_LOOP):
            if stop.is_set():
                return
            reply = _request(port, "POST", "/oauth/token", body, form)
            with lock:
                token_replies.append(reply)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(args.loops)]
    for thread in threads:
        thread.start()
    during: list[tuple[float, int, float]] = []
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        status, seconds = _api_call(port, token)
        during.append((time.monotonic() - started, status, seconds))
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    first_half = [s for at, _, s in during if at < args.seconds / 2]
    second_half = [s for at, _, s in during if at >= args.seconds / 2]
    return {
        "loops": args.loops,
        "seconds": args.seconds,
        "api_alone": _summary(baseline),
        "api_during_flood": _summary([s for _, _, s in during]),
        "api_during_flood_first_half": _summary(first_half),
        "api_during_flood_second_half": _summary(second_half),
        "api_statuses": dict(Counter(status for _, status, _ in during)),
        "token_statuses": dict(Counter(status for status, _ in token_replies)),
        "token_latency": _summary([s for _, s in token_replies]),
        "token_requests_per_second": round(len(token_replies) / args.seconds, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
