"""A real gunicorn serving the app in a subprocess, for what only the server in front of Django does.

The listening socket is bound here, on a free loopback port, and handed to gunicorn as
`fd://N`, so there is no race for the port and requests queue until the worker is up.
Every wait is bounded; the server is stopped when the `with` block ends.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

START_SECONDS = 30
STOP_SECONDS = 10


@dataclass(frozen=True)
class Answer:
    """One HTTP answer and how long it took."""

    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        """The body decoded as JSON (fails the test when it is not JSON)."""
        import json

        assert self.headers.get("content-type", "").startswith("application/json"), self
        return json.loads(self.body)


@dataclass(frozen=True)
class Server:
    """A running gunicorn on 127.0.0.1:`port`."""

    port: int
    log_path: str
    # Everything gunicorn wrote, up to its exit: filled in once the `with` block stopped it.
    exit_log: list[str] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        chunked: bool = False,
        timeout: float = 15,
    ) -> Answer:
        """Send one request with http.client (`chunked`: Transfer-Encoding: chunked)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return Answer(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=data,
            seconds=time.monotonic() - started,
        )

    def raw(self, data: bytes, *, timeout: float = 15) -> bytes:
        """Send raw bytes and return everything the server answers until it closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            chunks = []
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:
                pass  # closed with part of the request unread: keep what was answered
        return b"".join(chunks)

    def log(self) -> str:
        """What gunicorn wrote to stderr so far (for failure messages)."""
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


def current_database_url() -> str:
    """The URL of the PostgreSQL test database this test process uses."""
    params = connection.settings_dict
    credentials = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{credentials}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


@contextmanager
def gunicorn(env: dict[str, str] | None = None, *, workers: int = 1) -> Iterator[Server]:
    """Run `gunicorn segmentservice.wsgi -c gunicorn.conf.py` with `workers` (one by
    default) and `env` on top.

    The server signs and checks tokens with this process's keys and runs with DEBUG off,
    as in production.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    full_env = {
        **os.environ,
        "SECRET_KEY": settings.SECRET_KEY,
        "TOKEN_SIGNING_KEY": settings.TOKEN_SIGNING_KEY,
        "TOKEN_ISSUER": settings.TOKEN_ISSUER,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, as behind a TLS proxy
        "GUNICORN_LOG_LEVEL": "warning",
        **(env or {}),
    }
    full_env.pop("GUNICORN_CMD_ARGS", None)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "segmentservice.wsgi",
        "-c",
        "gunicorn.conf.py",
        "--workers",
        str(workers),
        "--bind",
        f"fd://{listener.fileno()}",
    ]
    with (
        listener,
        tempfile.TemporaryDirectory(prefix="gunicorn-") as scratch,
        open(os.path.join(scratch, "log"), "wb") as log,
    ):
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=full_env,
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        server = Server(port=port, log_path=log.name)
        try:
            _wait_until_serving(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_SECONDS)
            server.exit_log.append(Path(log.name).read_text(errors="replace"))


def _wait_until_serving(server: Server, process: subprocess.Popen) -> None:
    """Block until the worker answers a request that needs no database (a JSON 404)."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            server.request("GET", "/gunicorn-test-ready", timeout=START_SECONDS)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in time:\n{server.log()}") from None
            time.sleep(0.2)
