#!/usr/bin/env python3
"""The Quick start commands, needing nothing but Python 3.11.

    python3 dev.py serve   # venv, migrate SQLite, demo data, admin login, token; serves :8000
    python3 dev.py test    # venv, then the whole test suite (extra arguments go to pytest)
    python3 dev.py fuzz    # venv, then Schemathesis against a real server (tests/fuzz/run.py)

All create `.venv` from `requirements.txt` when it is missing or the requirements changed,
and a `.env` with a fresh SECRET_KEY when there is none.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = ROOT / ".requirements-installed"
ENV_FILE = ROOT / ".env"
ADMIN_USER = "admin"


def ensure_venv() -> None:
    """Create the virtual environment and install the pinned requirements when needed."""
    requirements = (ROOT / "requirements.txt").read_bytes()
    digest = hashlib.sha256(requirements).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing requirements ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    STAMP.write_text(digest + "\n")


def ensure_env_file() -> None:
    """Write a local `.env` (development settings, a random secret) unless one exists."""
    if ENV_FILE.exists():
        return
    ENV_FILE.write_text(
        "# Local development settings, written by dev.py. See .env.example for all settings.\n"
        f"SECRET_KEY={secrets.token_urlsafe(40)}\n"
        "DEBUG=true\n"
    )


def manage(*args: str, capture: bool = False) -> str:
    """Run a manage.py command in the virtual environment."""
    result = subprocess.run(
        [str(PYTHON), str(ROOT / "manage.py"), *args],
        check=True,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def serve(argv: list[str]) -> int:
    """Set up SQLite with demo data and an admin login, then run the development server."""
    port = argv[0] if argv else os.environ.get("PORT", "8000")
    ensure_venv()
    ensure_env_file()
    manage("migrate", "--no-input", "-v", "0")
    # seed_demo prints its own URLs and token too; the block below says it all once.
    print(manage("seed_demo", "--no-progress", capture=True).splitlines()[0], flush=True)
    password = secrets.token_urlsafe(9)
    manage("set_admin_password", "--username", ADMIN_USER, "--password", password, capture=True)
    token = manage(
        "issue_token",
        "--tenant",
        "demo",
        "--scopes",
        "customersegment.segment_manage customersegment.segment_read",
        "--ttl",
        "86400",
        capture=True,
    ).strip()
    base = f"http://127.0.0.1:{port}"
    print(
        "\n"
        f"  API:          {base}/customer-segment/demo/segments\n"
        f"  Swagger UI:   {base}/api/docs/\n"
        f"  ReDoc:        {base}/api/redoc/\n"
        f"  Admin:        {base}/admin/   (user {ADMIN_USER}, password {password})\n"
        f"  Segments:     {base}/admin/segments/segment/?tenant=demo\n"
        f"  Health:       {base}/healthz\n"
        "\n"
        "  A token for tenant 'demo' (manage + read, valid 24 h):\n\n"
        f"  export TOKEN={token}\n"
        f'  curl -H "Authorization: Bearer $TOKEN" {base}/customer-segment/demo/segments?pageSize=3\n',
        flush=True,
    )
    return subprocess.call(
        [str(PYTHON), str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}"], cwd=ROOT
    )


def test(argv: list[str]) -> int:
    """Run the whole suite (on both cores); extra arguments go to pytest."""
    ensure_venv()
    ensure_env_file()
    args = argv or ["-n", "2", "--dist", "loadfile"]
    return subprocess.call([str(PYTHON), "-m", "pytest", *args], cwd=ROOT)


def fuzz(argv: list[str]) -> int:
    """Fuzz the API over both OpenAPI descriptions; extra arguments go to tests/fuzz/run.py."""
    ensure_venv()
    return subprocess.call([str(PYTHON), str(ROOT / "tests" / "fuzz" / "run.py"), *argv], cwd=ROOT)


def main() -> int:
    """Dispatch `serve`, `test` or `fuzz`."""
    commands = {"serve": serve, "test": test, "fuzz": fuzz}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
