"""Production is secure by default: the settings a process gets without DEBUG.

Each case starts a fresh Python (settings are read once per process) with the environment
an operator's process would have, never the test suite's development values.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
]


def production_env(**extra: str) -> dict[str, str]:
    """A bare environment: no DEBUG, a long random secret, this suite's database."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "segmentservice.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
    }
    env.update(extra)
    return env


def settings_of(env: dict[str, str]) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {SECURITY_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def production_env_file() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_without_debug_everything_is_secure():
    assert settings_of(production_env()) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^readyz$", "^metrics$"],
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]"],
        "CSRF_TRUSTED_ORIGINS": [],
    }


def test_the_development_environment_switches_it_off():
    values = settings_of(production_env(DEBUG="true"))
    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is False


def test_each_setting_comes_from_the_environment():
    values = settings_of(
        production_env(
            SECURE_SSL_REDIRECT="false",
            SECURE_HSTS_SECONDS="60",
            SECURE_HSTS_PRELOAD="false",
            SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
            ALLOWED_HOSTS="segments.example.com",
            CSRF_TRUSTED_ORIGINS="https://segments.example.com",
        )
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 60
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ALLOWED_HOSTS"] == ["segments.example.com"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://segments.example.com"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECURE_PROXY_SSL_HEADER", "HTTP_X_FORWARDED_PROTO", "takes a header and a value"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN is too short"),
    ],
)
def test_a_bad_value_fails_at_start(name, value, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(**{name: value}),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert message in result.stderr


def test_the_documented_production_environment_passes_check_deploy():
    env = production_env(**production_env_file())
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
