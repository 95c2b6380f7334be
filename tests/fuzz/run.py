"""Fuzz the API with Schemathesis against a real server: `python3 dev.py fuzz`.

Starts gunicorn on a free loopback port over a fresh database (a SQLite file in a temporary
directory, or the PostgreSQL database `--postgres postgres://user@host:port/name` names,
created anew and dropped after), seeds
a tenant with a few segments, customers, legal entities, products and categories so that
paths resolve, issues a token with every scope, and runs `st run` over

- the service's own OpenAPI document, as served at /api/schema/, and
- the hosted service's newest description,
  `../shared/reference/customer-segment-api-2026-groups-preview.yml` beside the checkout
  (or `--reference FILE`; the copy in docs/reference/ when neither is there),

with the checks and budget of `schemathesis.toml` beside this file. Exits non-zero when
either run finds a failure, and then prints the server's log (with the traceback of any
500). JUnit reports go to `--report-dir`. Options after `--` go to `st run`, e.g.
`python3 dev.py fuzz -- --max-examples 200` or `-- --include-path-regex category-trees`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = ROOT / ".venv" / "bin"
CONFIG = HERE / "schemathesis.toml"
# The 2026 description: the published one's 30 operations and the five group operations.
REFERENCE_NAME = "customer-segment-api-2026-groups-preview.yml"
REFERENCE = ROOT.parent / "shared" / "reference" / REFERENCE_NAME
REFERENCE_COPY = ROOT / "docs" / "reference" / REFERENCE_NAME
TENANT = "fuzz"
SCOPES = (
    "customersegment.segment_manage customersegment.segment_read customersegment.segment_read_own"
)
# A run that takes longer than this has hung (the budget takes a minute or two).
RUN_TIMEOUT_SECONDS = 600

# How the run over the hosted service's description differs from the run over our own.
REFERENCE_ARGS = (
    "--exclude-checks",
    # status_code_conformance: the hosted description lists fewer statuses than the
    # contract (SPEC §§2, 5, 6, 9) has them: no 400 for a bad `q` or page size on a list,
    # no 404 for an unknown segment on a delete or a search, and so on. Our own schema
    # documents every status; here the bodies of the statuses it does list are checked.
    # negative_data_rejection: the service accepts more than the hosted description
    # allows, where the contract asks it to: a JSON object as a merge patch where the
    # description has only a JSON Patch array, null for optional members, any
    # X-Total-Count text. Our own schema states what is accepted and what is refused.
    "status_code_conformance,negative_data_rejection",
    # Its localized fields are maps only; with an Accept-Language naming a language they
    # are plain strings (SPEC §7, as our own schema has them). `*` asks for maps.
    # A command-line header replaces the configuration's, hence the token again.
    "--header",
    "Accept-Language: *",
    "--header",
    "Authorization: Bearer {token}",
)

# What the fuzzer finds behind the ids the schemas name: `schemathesis.toml` draws segment,
# customer, legal entity and item ids from these most of the time.
DIRECTORY = {
    "legalEntities": [
        {"id": "le1", "name": "Acme GmbH"},
        {"id": "le2", "name": "Globex Ltd"},
    ],
    "customers": [
        {"id": "c1", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
        {"id": "c2", "firstName": "Alan", "lastName": "Turing", "legalEntities": ["le1"]},
        {"id": "c3", "email": "grace@example.com", "legalEntities": ["le1", "le2"]},
    ],
    "groups": [
        {"id": "g1", "name": {"en": "Fans"}, "members": ["c1", "c3"]},
        {"id": "g2", "name": {"en": "Le1 buyers"}, "legalEntityId": "le1", "members": ["c2"]},
        {"id": "g3", "name": {"en": "Staff"}, "userType": "EMPLOYEE", "members": []},
    ],
    "categories": [
        {"id": "cat1", "code": "tools", "name": {"en": "Tools", "de": "Werkzeuge"}},
        {
            "id": "cat2",
            "code": "hammers",
            "name": {"en": "Hammers"},
            "parentId": "cat1",
            "slug": {"en": "hammers"},
            "ecn": ["h-1"],
        },
        {"id": "cat3", "code": "garden", "name": {"en": "Garden"}, "published": False},
    ],
    "products": [
        {"id": "p1", "code": "P-1", "name": {"en": "Claw hammer"}, "categories": ["cat2"]},
        {"id": "p2", "code": "P-2", "name": {"en": "Spade"}, "categories": ["cat3"]},
        {"id": "p3", "code": "P-3"},
    ],
}


def _segment(segment_id: str, **fields) -> dict:
    return {"id": segment_id, "name": {"en": segment_id.title()}, "siteCode": "main", **fields}


# In the shape of `manage.py export_segments`, read back by `import_segments`.
SEGMENTS = {
    "format": "customer-segments/v1",
    "tenant": TENANT,
    "segments": [
        {
            "segment": _segment(
                "gold",
                description={"en": "Best customers", "de": "Beste Kunden"},
                status="ACTIVE",
                validity={"from": "2024-01-01T00:00:00.000Z"},
                mixins={"tier": {"level": 3}},
                metadata={"mixins": {"tier": "https://example.com/tier.json"}},
            ),
            "customers": [
                {"customer": {"id": "c1"}, "mixins": {"note": "vip"}},
                {"customer": {"id": "c2"}, "legalEntity": {"id": "le1"}},
                {"customer": {"id": "c3"}, "legalEntity": {"id": "le2"}},
            ],
            "items": [
                {"item": {"id": "p1"}, "type": "PRODUCT", "mixins": {"rank": 1}},
                {"item": {"id": "cat1"}, "type": "CATEGORY"},
            ],
            "groups": [
                {"group": {"id": "g1"}, "mixins": {"source": "crm"}},
                {"group": {"id": "g2"}},
            ],
        },
        {
            "segment": _segment("silver", status="ACTIVE"),
            "customers": [{"customer": {"id": "c1"}}, {"customer": {"id": "c3"}}],
            "items": [{"item": {"id": "p2"}, "type": "PRODUCT"}],
        },
        {
            "segment": _segment(
                "bronze",
                siteCode="outlet",
                validity={"from": "2020-01-01T00:00:00.000Z", "to": "2021-01-01T00:00:00.000Z"},
            ),
            "customers": [],
            "items": [{"item": {"id": "cat3"}, "type": "CATEGORY"}],
        },
        {"segment": _segment("empty"), "customers": [], "items": []},
    ],
}


def main() -> int:
    """Seed, serve, fuzz both schemas, stop; the exit code says whether anything failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="fuzz on PostgreSQL instead of SQLite: the database this URL names is dropped, "
        "created anew, and dropped after the run",
    )
    parser.add_argument(
        "--schema",
        choices=("own", "reference", "both"),
        default="both",
        help="which description to fuzz (default: both)",
    )
    parser.add_argument("--reference", type=Path, help="the hosted service's description")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=ROOT / "artifacts" / "fuzz",
        help="where the JUnit reports go (default: artifacts/fuzz)",
    )
    parser.add_argument("st_args", nargs="*", help="options for `st run`, after `--`")
    args = parser.parse_args()
    reference = (args.reference or (REFERENCE if REFERENCE.exists() else REFERENCE_COPY)).resolve()

    work = Path(tempfile.mkdtemp(prefix="segments-fuzz-"))
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="ERROR",
        # Plain HTTP on loopback, as behind a TLS-terminating proxy; no line per request.
        SECURE_SSL_REDIRECT="false",
        GUNICORN_ACCESS_LOG="off",
        # Hypothesis keeps its caches here rather than in the checkout.
        HYPOTHESIS_STORAGE_DIRECTORY=str(work / "hypothesis"),
        # whitenoise's note that `collectstatic` has not run: beside the point here.
        PYTHONWARNINGS="ignore:No directory at:UserWarning",
    )
    if args.postgres:
        _postgres_recreate(args.postgres)
        env["DATABASE_URL"] = args.postgres
    else:
        env["DATABASE_URL"] = f"sqlite:///{work / 'fuzz.sqlite3'}"
    server = None
    try:
        token = _seed(env, work)
        server, port, log = _serve(env, work)
        base = f"http://127.0.0.1:{port}"
        targets = {
            "own": (f"{base}/api/schema/", []),
            "reference": (
                str(reference),
                ["--url", base, *(arg.format(token=token) for arg in REFERENCE_ARGS)],
            ),
        }
        st_env = {**env, "FUZZ_TOKEN": token, "FUZZ_TENANT": TENANT}
        failed = []
        for name in ("own", "reference") if args.schema == "both" else (args.schema,):
            location, extra = targets[name]
            print(f"\n== fuzzing the {name} schema: {location}", flush=True)
            started = time.monotonic()
            report = args.report_dir / f"{name}.junit.xml"
            code = _schemathesis([location, *extra, *args.st_args], report, st_env)
            print(f"== {name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
            if code != 0:
                failed.append(name)
        if failed:
            _print_server_log(log)
            print(f"\n== fuzzing failed: {', '.join(failed)}", flush=True)
            return 1
        return 0
    finally:
        if server is not None:
            _stop(server)
        if args.postgres:
            _postgres_recreate(args.postgres, create=False)
        shutil.rmtree(work, ignore_errors=True)


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return result.stdout


def _seed(env: dict[str, str], work: Path) -> str:
    """Migrate, create the tenant and its records; returns a token with every scope."""
    _manage(env, "migrate", "--no-input", "-v", "0")
    _manage(env, "create_tenant", TENANT, "--default-language", "en", "--languages", "en,de")
    directory, segments = work / "directory.json", work / "segments.json"
    directory.write_text(json.dumps(DIRECTORY))
    segments.write_text(json.dumps(SEGMENTS))
    _manage(env, "import_directory", "--tenant", TENANT, "--no-progress", str(directory))
    _manage(env, "import_segments", "--tenant", TENANT, "--no-progress", str(segments))
    return _manage(
        env, "issue_token", "--tenant", TENANT, "--scopes", SCOPES, "--ttl", "86400"
    ).strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str], work: Path) -> tuple[subprocess.Popen, int, Path]:
    """gunicorn with the repository's config on a free loopback port, once it answers."""
    port = _free_port()
    log = work / "server.log"
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "segmentservice.wsgi",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process, port, log
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited during start-up:\n{log.read_text()}") from None
            time.sleep(0.2)
    _stop(process)
    raise SystemExit("gunicorn did not answer within 60 s")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _schemathesis(run_args: list[str], report: Path, env: dict[str, str]) -> int:
    """`st run` with the configuration beside this file; its exit code (124 on a hang)."""
    command = [
        str(BIN / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        *run_args,
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    # From the repository root, where the configuration's `hooks` path points.
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        return process.wait(timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"== st run took more than {RUN_TIMEOUT_SECONDS} s; stopped", flush=True)
        _stop(process)
        return 124


def _print_server_log(log: Path) -> None:
    # Django logs every 4xx as a warning; what matters here are the tracebacks of 500s.
    lines = log.read_text(errors="replace").splitlines()
    kept = [line for line in lines if " WARNING django.request: " not in line]
    print(f"\n== the server's log, without the 4xx warnings ({len(kept)} lines)", flush=True)
    print("\n".join(kept[-400:]), flush=True)


def _postgres_recreate(url: str, *, create: bool = True) -> None:
    """Drop the database `url` names and, unless told otherwise, create it empty."""
    import psycopg  # only with --postgres
    from psycopg import sql

    server, _, name = url.rstrip("/").rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        database = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        if create:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(database))


if __name__ == "__main__":
    sys.exit(main())
