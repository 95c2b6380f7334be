"""`POST /oauth/token` is throttled per client_id and per address, before any hashing."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlencode

import pytest

from tenants.services import api_client_create
from tests.conftest import READ

URL = "/oauth/token"
SLOW_DOWN = re.compile(
    r"Too many token requests from this address or for this client_id; retry in (\d+) seconds\."
)


@pytest.fixture
def issued(tenant, fast_hashing):
    return api_client_create(tenant=tenant, scopes=READ, name="storefront")


def grant(client, client_id: str, secret: str, **extra):
    body = urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    return client.post(URL, body, content_type="application/x-www-form-urlencoded", **extra)


def assert_slow_down(response) -> None:
    """A 429 in OAuth2's error shape, with a Retry-After the description repeats."""
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "slow_down"
    wait = SLOW_DOWN.fullmatch(body["error_description"])
    assert wait, body["error_description"]
    assert response["Retry-After"] == wait.group(1)
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
class TestPerClient:
    def test_twenty_bad_secrets_in_a_row_are_cut_off_before_hashing(
        self, anon_client, issued, hash_checks
    ):
        responses = [grant(anon_client, issued.client.client_id, "wrong") for _ in range(20)]

        assert [r.status_code for r in responses] == [401] * 10 + [429] * 10
        assert hash_checks.call_count == 10
        for response in responses[10:]:
            assert_slow_down(response)

    def test_the_right_secret_is_refused_too_once_the_client_is_throttled(
        self, anon_client, issued, throttle_rates, hash_checks
    ):
        throttle_rates(token_client="3/min")
        for _ in range(3):
            grant(anon_client, issued.client.client_id, "wrong")

        response = grant(anon_client, issued.client.client_id, issued.client_secret)

        assert_slow_down(response)
        assert hash_checks.call_count == 3

    def test_successful_grants_count_too(self, anon_client, issued, throttle_rates):
        throttle_rates(token_client="2/min")
        statuses = [
            grant(anon_client, issued.client.client_id, issued.client_secret).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]

    def test_basic_credentials_count_for_their_client_id(self, anon_client, issued, throttle_rates):
        throttle_rates(token_client="2/min")
        basic = base64.b64encode(f"{issued.client.client_id}:wrong".encode()).decode()
        for _ in range(2):
            anon_client.post(
                URL,
                "grant_type=client_credentials",
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=f"Basic {basic}",
            )

        assert_slow_down(grant(anon_client, issued.client.client_id, issued.client_secret))

    def test_other_clients_are_not_affected(self, tenant, anon_client, issued, throttle_rates):
        throttle_rates(token_client="2/min")
        other = api_client_create(tenant=tenant, scopes=READ, name="backoffice")
        for _ in range(3):
            grant(anon_client, issued.client.client_id, "wrong")

        assert grant(anon_client, other.client.client_id, other.client_secret).status_code == 200

    def test_the_next_window_lets_the_client_in_again(
        self, anon_client, issued, throttle_rates, monkeypatch
    ):
        throttle_rates(token_client="2/min")
        now = 1_800_000_000.0
        monkeypatch.setattr("tenants.ratelimit._now", lambda: now)
        for _ in range(2):
            grant(anon_client, issued.client.client_id, "wrong")
        throttled = grant(anon_client, issued.client.client_id, issued.client_secret)
        assert_slow_down(throttled)

        now += int(throttled["Retry-After"])

        assert grant(anon_client, issued.client.client_id, issued.client_secret).status_code == 200

    def test_a_rate_of_none_turns_the_throttle_off(self, anon_client, issued, throttle_rates):
        throttle_rates(token_client=None, token_address=None)
        statuses = {
            grant(anon_client, issued.client.client_id, "wrong").status_code for _ in range(12)
        }
        assert statuses == {401}


@pytest.mark.django_db
class TestPerAddress:
    def test_many_client_ids_from_one_address_are_cut_off(
        self, anon_client, issued, throttle_rates, hash_checks
    ):
        throttle_rates(token_address="3/min")
        responses = [grant(anon_client, f"guess-{n}", "wrong") for n in range(5)]

        assert [r.status_code for r in responses] == [401, 401, 401, 429, 429]
        assert_slow_down(responses[3])
        assert hash_checks.call_count == 3

    def test_other_addresses_are_not_affected(self, anon_client, issued, throttle_rates):
        throttle_rates(token_address="3/min")
        for n in range(4):
            grant(anon_client, f"guess-{n}", "wrong")

        response = grant(
            anon_client, issued.client.client_id, issued.client_secret, REMOTE_ADDR="10.1.2.3"
        )
        assert response.status_code == 200

    def test_a_forwarded_for_header_does_not_make_a_new_address(
        self, anon_client, issued, throttle_rates
    ):
        throttle_rates(token_address="3/min")
        for n in range(3):
            grant(anon_client, f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

        assert_slow_down(
            grant(anon_client, "guess-x", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")
        )

    def test_behind_a_trusted_proxy_the_forwarded_address_counts(
        self, anon_client, issued, settings, throttle_rates
    ):
        throttle_rates(token_address="3/min")
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        for n in range(3):
            grant(anon_client, f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9")

        assert_slow_down(grant(anon_client, "guess-x", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9"))
        other = grant(
            anon_client,
            issued.client.client_id,
            issued.client_secret,
            HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.7",
        )
        assert other.status_code == 200
