#!/usr/bin/env python3
"""The Quick start commands, needing nothing but Python 3.11.

    python3 dev.py serve [PORT]  # venv, migrate SQLite, demo data, admin login, token; serves :8000
    python3 dev.py test          # venv, then the whole test suite (extra arguments go to pytest)
    python3 dev.py fuzz          # venv, then Schemathesis against a real server (tests/fuzz/run.py)
    python3 dev.py lock          # re-pin requirements*.txt (with hashes) from requirements*.in

`serve` and `test` create `.venv` from `requirements-dev.txt` (runtime, tests, tooling) when
it is missing or the requirements changed, and a `.env` holding only a fresh SECRET_KEY when
there is none. The development settings (DEBUG and what follows from it) reach only the
processes started here, through their environment: `.env` never holds them, so a production
process that reads `.env` still starts with the production defaults.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
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
# Git-ignored: the admin password `serve` made once and reuses on every run.
ADMIN_PASSWORD_FILE = ROOT / ".admin-password"
# The runtime lock and the development lock (which pins the runtime set too).
REQUIREMENTS = ROOT / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"

# The Quick start's development settings, given to the processes dev.py starts (and to the
# test suite, see tests/settings.py) and never written to `.env`.
DEVELOPMENT_ENV = {"DEBUG": "true", "CORS_ALLOWED_ORIGINS": "*"}
# Lines older versions of dev.py wrote into `.env`; they are taken out again.
_OLD_DEVELOPMENT_LINES = {"DEBUG=true"}
_ENV_FILE_HEADER = "# Local development settings, written by dev.py."


def development_env() -> dict[str, str]:
    """This process's environment with the development settings (explicit values win)."""
    return {**DEVELOPMENT_ENV, **os.environ}


def ensure_venv() -> None:
    """Create the virtual environment and install the pinned requirements when needed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + DEV_REQUIREMENTS.read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing requirements ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # The lock carries hashes (pip's too), so pip checks every download against them.
    subprocess.run([*pip, "--require-hashes", "-r", str(DEV_REQUIREMENTS)], check=True)
    STAMP.write_text(digest + "\n")


def ensure_env_file() -> None:
    """Write a local `.env` holding only a random secret unless one exists.

    A `.env` written by an older dev.py also held `DEBUG=true`; that line is taken out, so
    nothing that reads `.env` inherits development settings.
    """
    if ENV_FILE.exists():
        lines = ENV_FILE.read_text().splitlines()
        if lines and lines[0].startswith(_ENV_FILE_HEADER):
            kept = [line for line in lines if line.strip() not in _OLD_DEVELOPMENT_LINES]
            if kept != lines:
                ENV_FILE.write_text("\n".join(kept) + "\n")
                print("Removed DEBUG=true from .env: dev.py now passes it itself.", flush=True)
        return
    ENV_FILE.write_text(
        f"{_ENV_FILE_HEADER} See .env.example for all settings.\n"
        "# Only the secret: dev.py passes DEBUG and the other development values itself.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )


def manage(*args: str, capture: bool = False) -> str:
    """Run a manage.py command in the virtual environment."""
    result = subprocess.run(
        [str(PYTHON), str(ROOT / "manage.py"), *args],
        check=True,
        cwd=ROOT,
        env=development_env(),
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def parse_port(argv: list[str]) -> int | None:
    """The port of `serve [PORT]`, `serve --port PORT` or `serve --port=PORT` (default 8000)."""
    value = os.environ.get("PORT", "8000")
    if argv:
        if argv[0] == "--port" and len(argv) == 2:
            value = argv[1]
        elif argv[0].startswith("--port=") and len(argv) == 1:
            value = argv[0].removeprefix("--port=")
        elif len(argv) == 1:
            value = argv[0]
        else:
            return None
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else None


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` yet."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def admin_password() -> str:
    """The admin password made on the first `serve`, kept in a git-ignored file."""
    if ADMIN_PASSWORD_FILE.exists():
        password = ADMIN_PASSWORD_FILE.read_text().strip()
        if password:
            return password
    password = secrets.token_urlsafe(9)
    ADMIN_PASSWORD_FILE.write_text(password + "\n")
    ADMIN_PASSWORD_FILE.chmod(0o600)
    return password


def serve(argv: list[str]) -> int:
    """Set up SQLite with demo data and an admin login, then run the development server."""
    port = parse_port(argv)
    if port is None:
        print("Usage: python3 dev.py serve [PORT]   (or --port PORT; default 8000)")
        return 2
    # Before the slow set-up, so a second `serve` fails at once instead of after seeding.
    if not port_is_free(port):
        print(
            f"Port {port} is in use on 127.0.0.1: stop what listens there or pick another, "
            f"e.g. python3 dev.py serve {port + 1}"
        )
        return 1
    ensure_venv()
    ensure_env_file()
    manage("migrate", "--no-input", "-v", "0")
    # seed_demo prints its own URLs and token too; the block below says it all once.
    print(manage("seed_demo", "--no-progress", capture=True).splitlines()[0], flush=True)
    password = admin_password()
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
        [str(PYTHON), str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=development_env(),
    )


def test(argv: list[str]) -> int:
    """Run the whole suite (on both cores); extra arguments go to pytest."""
    ensure_venv()
    ensure_env_file()
    args = argv or ["-n", "2", "--dist", "loadfile"]
    return subprocess.call([str(PYTHON), "-m", "pytest", *args], cwd=ROOT, env=development_env())


def lock(argv: list[str]) -> int:
    """Re-pin both locks from the .in files with pip-compile, hashes included.

    The runtime lock first; the development lock is constrained to it (requirements-dev.in
    says `-c requirements.txt`), so both pin the same versions. Extra arguments go to both
    pip-compile runs, e.g. `--upgrade` or `--upgrade-package Django`. It needs only pip-tools
    in `.venv`, not installable locks, so it also repairs locks that a merge left broken.
    """
    pip_compile = VENV / "bin" / "pip-compile"
    if not pip_compile.exists():
        if not PYTHON.exists():
            venv.EnvBuilder(with_pip=True).create(VENV)
        pin = re.search(r"^pip-tools==\S+", (ROOT / "requirements-dev.in").read_text(), re.M)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", pin.group(0)], check=True)
    compile_ = [str(pip_compile), "--quiet", "--generate-hashes", "--allow-unsafe"]
    compile_ += ["--strip-extras", "--no-emit-index-url", "--no-emit-find-links", *argv]
    for source, target in [
        ("requirements.in", REQUIREMENTS),
        ("requirements-dev.in", DEV_REQUIREMENTS),
    ]:
        result = subprocess.call(
            [*compile_, "--output-file", target.name, source],
            cwd=ROOT,
            # The lock files' header then names this command, not pip-compile's own line.
            env={**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 dev.py lock"},
        )
        if result:
            return result
    return 0


def fuzz(argv: list[str]) -> int:
    """Fuzz the API over both OpenAPI descriptions; extra arguments go to tests/fuzz/run.py."""
    ensure_venv()
    return subprocess.call([str(PYTHON), str(ROOT / "tests" / "fuzz" / "run.py"), *argv], cwd=ROOT)


def main() -> int:
    """Dispatch `serve`, `test`, `fuzz` or `lock`."""
    commands = {"serve": serve, "test": test, "fuzz": fuzz, "lock": lock}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
