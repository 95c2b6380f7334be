"""The system under test: a PostgreSQL database with generated data and gunicorn on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks.sizes import SIZES

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
TENANT = "bench"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
MANAGE = "customersegment.segment_manage"
READ = "customersegment.segment_read"
READ_OWN = "customersegment.segment_read_own"


# The benchmark databases are <prefix><size>, e.g. bench_small (BENCH_DATABASE_PREFIX).
PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "bench_")


def database_name(size: str) -> str:
    """The name of the benchmark database for `size`."""
    return f"{PREFIX}{size}"


def database_url(size: str) -> str:
    """The URL of the benchmark database for `size`."""
    return f"{PG}/{database_name(size)}"


def _env(size: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(size),
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "benchmark-only-secret",
        LOG_LEVEL="WARNING",
        # Plain HTTP on loopback, and no access log line per request.
        SECURE_SSL_REDIRECT="false",
        GUNICORN_ACCESS_LOG="off",
    )
    env.update(extra)
    return env


def manage(size: str, *args: str, quiet: bool = False, check: bool = True) -> str:
    """Run `manage.py` against the benchmark database; returns its stdout."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=_env(size),
        check=check,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    return result.stdout


def database_prepare(size: str, *, reuse: bool) -> float | None:
    """Create, migrate and fill the database; returns the generation seconds (None if reused)."""
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database_name(size),)
        ).fetchone()
        if exists and not reuse:
            conn.execute(f"DROP DATABASE {database_name(size)} WITH (FORCE)")
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE {database_name(size)}")
    manage(size, "migrate", "--no-input", "-v", "0")
    with psycopg.connect(database_url(size)) as conn:
        filled = conn.execute(
            "SELECT count(*) FROM segments_segment WHERE tenant_id = %s", (TENANT,)
        ).fetchone()[0]
    if filled:
        return None
    args = [f"--{name}={value}" for name, value in SIZES[size].items()]
    started = time.perf_counter()
    print(manage(size, "generate_data", f"--tenant={TENANT}", *args).strip(), file=sys.stderr)
    return time.perf_counter() - started


def token(size: str, *scopes: str, customer: str | None = None, tenant: str = TENANT) -> str:
    """A 24-hour token for the benchmark tenant (or `tenant`)."""
    args = ["issue_token", f"--tenant={tenant}", f"--scopes={' '.join(scopes)}", "--ttl=86400"]
    if customer:
        args.append(f"--customer={customer}")
    return manage(size, *args).strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn master and how to reach it."""

    process: subprocess.Popen
    port: int
    capture_dir: Path

    def worker_pids(self) -> list[int]:
        """The pids of the master's worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        """Stop gunicorn gracefully (this process started it)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def server_start(size: str, *, capture_dir: Path, workers: int = 2) -> Server:
    """Start gunicorn with the repository's config on a free loopback port; wait until up."""
    port = _free_port()
    env = _env(
        size,
        DB_QUERY_STATS="true",
        DB_QUERY_CAPTURE_DIR=str(capture_dir),
        GUNICORN_WORKERS=str(workers),
    )
    process = subprocess.Popen(
        [
            GUNICORN,
            "segmentservice.wsgi",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                pass
            server = Server(process=process, port=port, capture_dir=capture_dir)
            while len(server.worker_pids()) < workers and time.monotonic() < deadline:
                time.sleep(0.1)
            return server
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not answer within 60 s")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values
