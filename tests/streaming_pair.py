"""A PostgreSQL primary and a hot standby of its own, in a temporary directory, for one test.

`streaming_pair()` runs `initdb` for a primary (its own `pg_hba.conf` allowing replication
from loopback, `wal_level=replica`), `pg_basebackup -R` for a standby streaming from it,
both on spare loopback ports and started with `pg_ctl` as the `postgres` OS user when run
as root (initdb refuses root). Both are stopped and the directory removed when the `with`
block ends, however it ends, so the machine's own cluster is never touched. Every step has
a time bound.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

STEP_SECONDS = 60
HBA = """\
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
"""


def pg_bindir() -> Path | None:
    """Where initdb, pg_ctl and pg_basebackup live: PG_BINDIR, beside initdb, or Debian's."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    candidates += [Path(p) for p in reversed(debian)]
    for candidate in candidates:
        if all((candidate / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """One server of the pair."""

    data_dir: Path
    port: int

    def url(self, database: str) -> str:
        """A DATABASE_URL for `database` on this server."""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, sql: str, database: str = "postgres", params=()) -> list[tuple]:
        """Run one statement in autocommit and return its rows (none for commands)."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


@dataclass(frozen=True)
class Pair:
    """The primary and its hot standby."""

    primary: Server
    standby: Server


class _Runner:
    """Runs the server programs as the postgres OS user when this process is root."""

    def __init__(self, bindir: Path, workdir: Path) -> None:
        self.bindir = bindir
        self.workdir = workdir
        self.as_postgres = os.geteuid() == 0

    def __call__(self, program: str, *args: str) -> str:
        command = [str(self.bindir / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=STEP_SECONDS,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout


@contextmanager
def streaming_pair(workdir: str | None = None) -> Iterator[Pair]:
    """Start a primary and a standby streaming from it; stop both and clean up afterwards.

    `workdir` (default: a new temporary directory) must be empty; it is removed at the end.
    """
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("No PostgreSQL server programs found (set PG_BINDIR).")
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="segments-replica-"))
    root.mkdir(parents=True, exist_ok=True)
    run = _Runner(bindir, root)
    if run.as_postgres:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    primary = Server(root / "primary", _free_port())
    standby = Server(root / "standby", _free_port())
    started: list[Server] = []
    try:
        run("initdb", "-D", str(primary.data_dir), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync")  # fmt: skip
        (primary.data_dir / "pg_hba.conf").write_text(HBA)
        with open(primary.data_dir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# A throwaway primary for one test.\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {primary.port}\n"
                f"unix_socket_directories = '{root}'\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                "hot_standby = on\n"
                "max_connections = 40\n"
                "shared_buffers = 16MB\n"
                "fsync = off\n"
            )
        _start(run, primary, root / "primary.log", started)
        run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(standby.data_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip
        _start(run, standby, root / "standby.log", started, port=standby.port)
        _wait_for_streaming(primary)
        yield Pair(primary=primary, standby=standby)
    finally:
        for server in reversed(started):
            # One that is already gone is fine: the directory goes anyway.
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                run("pg_ctl", "-D", str(server.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _start(run: _Runner, server: Server, log: Path, started: list, port: int | None = None):
    options = ["-o", f"-p {port}"] if port else []
    started.append(server)
    run("pg_ctl", "-D", str(server.data_dir), "-l", str(log), *options,
        "-w", "-t", str(STEP_SECONDS), "start")  # fmt: skip


def _wait_for_streaming(primary: Server) -> None:
    deadline = time.monotonic() + STEP_SECONDS
    while time.monotonic() < deadline:
        if primary.query("SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"):
            return
        time.sleep(0.2)
    raise RuntimeError("The standby did not start streaming in time.")
