"""dev.py, the Quick start's helper: its `.env`, the port of `serve`, the kept admin password."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

import dev

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def env_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / ".env"
    monkeypatch.setattr(dev, "ENV_FILE", path)
    return path


def settings_names(path: Path) -> list[str]:
    return [
        line.partition("=")[0]
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


class TestEnvFile:
    def test_a_new_env_file_holds_only_the_secret(self, env_file):
        dev.ensure_env_file()
        assert settings_names(env_file) == ["SECRET_KEY"]
        secret = env_file.read_text().split("SECRET_KEY=")[1].strip()
        assert len(secret) >= 50  # what check --deploy asks of a secret

    def test_the_debug_line_of_an_older_dev_py_is_taken_out(self, env_file, capsys):
        env_file.write_text(
            "# Local development settings, written by dev.py. See .env.example for all settings.\n"
            "SECRET_KEY=kept\n"
            "DEBUG=true\n"
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/mine\n"
        )
        dev.ensure_env_file()
        assert settings_names(env_file) == ["SECRET_KEY", "DATABASE_URL"]
        assert "SECRET_KEY=kept" in env_file.read_text()
        assert "Removed DEBUG=true from .env" in capsys.readouterr().out

    def test_an_env_file_written_by_hand_is_left_alone(self, env_file):
        env_file.write_text("SECRET_KEY=mine\nDEBUG=true\n")
        dev.ensure_env_file()
        assert env_file.read_text() == "SECRET_KEY=mine\nDEBUG=true\n"

    def test_the_processes_dev_py_starts_get_debug(self, monkeypatch):
        monkeypatch.delenv("DEBUG", raising=False)
        assert dev.development_env()["DEBUG"] == "true"
        monkeypatch.setenv("DEBUG", "false")
        assert dev.development_env()["DEBUG"] == "false"  # an explicit value wins


class TestServePort:
    @pytest.mark.parametrize(
        ("argv", "port"),
        [
            ([], 8000),
            (["8001"], 8001),
            (["--port", "8002"], 8002),
            (["--port=8003"], 8003),
            (["0"], None),
            (["70000"], None),
            (["eighty"], None),
            (["--port"], None),
            (["8001", "8002"], None),
        ],
    )
    def test_parse(self, argv, port, monkeypatch):
        monkeypatch.delenv("PORT", raising=False)
        assert dev.parse_port(argv) == port

    def test_a_taken_port_stops_serve_before_any_set_up(self, monkeypatch, capsys):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            assert not dev.port_is_free(port)
            monkeypatch.setattr(dev, "ensure_venv", lambda: pytest.fail("set up on a taken port"))
            assert dev.serve([str(port)]) == 1
        assert f"Port {port} is in use" in capsys.readouterr().out
        assert dev.port_is_free(port)

    def test_usage_for_a_bad_port(self, capsys):
        assert dev.serve(["--port", "x"]) == 2
        assert "Usage: python3 dev.py serve [PORT]" in capsys.readouterr().out


class TestAdminPassword:
    def test_made_once_then_kept(self, tmp_path, monkeypatch):
        path = tmp_path / ".admin-password"
        monkeypatch.setattr(dev, "ADMIN_PASSWORD_FILE", path)
        first = dev.admin_password()
        assert len(first) >= 12
        assert path.stat().st_mode & 0o777 == 0o600
        assert dev.admin_password() == first

    def test_the_file_is_ignored_by_git(self):
        ignored = (ROOT / ".gitignore").read_text().splitlines()
        assert "/.admin-password" in ignored
        assert ".env" in ignored


def test_dev_py_runs_on_the_bare_interpreter():
    """dev.py must not need anything outside the standard library (it builds the venv)."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", "import runpy; runpy.run_path('dev.py', run_name='x')"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
