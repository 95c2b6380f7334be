"""The tenant API is throttled per API client (or customer), on Django's cache, Redis included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tenants.ratelimit import rate_parse
from tenants.tokens import token_issue
from tests.conftest import READ, READ_OWN

ROOT = Path(__file__).resolve().parents[2]
URL = "/customer-segment/acme/segments"
REDIS_URL = "redis://127.0.0.1:6379/7"
THROTTLED = re.compile(r"Request was throttled\. Expected available in (\d+) seconds?\.")


def client_for(subject: str = "", scopes: tuple[str, ...] = (READ,), **claims) -> APIClient:
    token, _ = token_issue(tenant="acme", scopes=list(scopes), subject=subject, **claims)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_throttled(response) -> None:
    """A 429 with the contract's error body and a Retry-After the message repeats."""
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"code", "status", "message"}
    assert (body["code"], body["status"]) == (429, "Too Many Requests")
    wait = THROTTLED.fullmatch(body["message"])
    assert wait, body["message"]
    assert response["Retry-After"] == wait.group(1)
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.django_db
class TestPerClient:
    def test_calls_beyond_the_rate_are_429_with_retry_after(self, tenant, throttle_rates):
        throttle_rates(api_client="3/min")
        client = client_for("acme-client-1")

        responses = [client.get(URL) for _ in range(4)]

        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert_throttled(responses[3])

    def test_each_api_client_has_its_own_count(self, tenant, throttle_rates):
        throttle_rates(api_client="2/min")
        busy, quiet = client_for("acme-busy"), client_for("acme-quiet")
        for _ in range(3):
            busy.get(URL)

        assert quiet.get(URL).status_code == 200
        assert_throttled(busy.get(URL))

    def test_every_token_of_one_client_shares_the_count(self, tenant, throttle_rates):
        throttle_rates(api_client="2/min")
        first, second = client_for("acme-shop"), client_for("acme-shop")
        assert [first.get(URL).status_code, second.get(URL).status_code] == [200, 200]
        assert_throttled(first.get(URL))

    def test_customer_tokens_count_per_customer(self, tenant, throttle_rates):
        throttle_rates(api_client="2/min")
        ada = client_for("acme-shop", (READ_OWN,), customer_id="ada")
        ada_for_company = client_for(
            "acme-shop", (READ_OWN,), customer_id="ada", legal_entity_id="le1"
        )
        bob = client_for("acme-shop", (READ_OWN,), customer_id="bob")
        assert ada.get(URL).status_code == 200
        assert ada_for_company.get(URL).status_code == 200

        assert_throttled(ada.get(URL))
        assert bob.get(URL).status_code == 200

    def test_refused_tokens_are_not_counted(self, tenant, throttle_rates, anon_client):
        throttle_rates(api_client="1/min")
        for _ in range(3):
            assert anon_client.get(URL, HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
        assert client_for().get(URL).status_code == 200

    def test_the_default_rate_is_generous(self, tenant):
        limit, period = rate_parse(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_client"])
        assert limit / period >= 500  # per second, per client: above what one server serves

        client = client_for()
        assert {client.get(URL).status_code for _ in range(100)} == {200}

    def test_an_unreachable_cache_lets_calls_through(self, tenant, throttle_rates, monkeypatch):
        from django.core.cache.backends.redis import RedisCache

        throttle_rates(api_client="1/min")
        down = RedisCache("redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
        monkeypatch.setattr("tenants.ratelimit.cache", down)
        client = client_for()

        started = time.monotonic()
        statuses = [client.get(URL).status_code for _ in range(3)]

        assert statuses == [200, 200, 200]
        assert time.monotonic() - started < 3


def settings_in_a_new_process(env: dict[str, str], code: str) -> str:
    """Run `code` in a fresh Python with Django set up from this project's settings."""
    script = textwrap.dedent(
        """
        import django, os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segmentservice.settings")
        django.setup()
        """
    ) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "test-only", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def redis_db():
    """Redis database 7 on loopback, or a skip when no Redis runs here."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return REDIS_URL


class TestCacheUrl:
    def test_local_memory_is_the_default(self):
        out = settings_in_a_new_process(
            {"CACHE_URL": ""},
            """
            import json
            from django.conf import settings
            print(json.dumps(settings.CACHES["default"]))
            """,
        )
        assert json.loads(out)["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"

    def test_a_redis_url_selects_djangos_redis_cache(self, redis_db):
        out = settings_in_a_new_process(
            {"CACHE_URL": f"{redis_db}?key_prefix=seg"},
            """
            import json
            from django.conf import settings
            from django.core.cache import cache
            cache.set("cache-url-check", 41)
            print(json.dumps({**settings.CACHES["default"], "value": cache.incr("cache-url-check")}))
            cache.delete("cache-url-check")
            """,
        )
        config = json.loads(out)
        assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
        assert config["LOCATION"] == redis_db
        assert config["KEY_PREFIX"] == "seg"
        assert config["OPTIONS"] == {"socket_connect_timeout": 1, "socket_timeout": 1}
        assert config["value"] == 42

    def test_two_workers_on_redis_count_together(self, redis_db):
        """Two processes, each with its own Redis connection, share one limit of 5 an hour."""
        code = """
            from tenants.ratelimit import rate_hit
            print(sum(rate_hit(scope="api_client", ident="acme shop", rate="5/h") is None
                      for _ in range(4)))
            """
        for _attempt in range(2):  # a second try, should the two straddle an hour's boundary
            env = {"CACHE_URL": f"{redis_db}?key_prefix=test-{uuid.uuid4().hex}"}
            allowed = [int(settings_in_a_new_process(env, code)) for _ in range(2)]
            if allowed == [4, 1]:
                break
        assert allowed == [4, 1]
