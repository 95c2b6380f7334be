"""Fixtures for the rate-limit, lockout and revocation tests: rates, fast hashing, counters."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest

from tenants import services


@pytest.fixture
def throttle_rates(settings) -> Callable[..., None]:
    """throttle_rates(api_client="3/min", token_client=None): change DRF's throttle rates."""

    def change(**rates: str | None) -> None:
        framework = dict(settings.REST_FRAMEWORK)
        framework["DEFAULT_THROTTLE_RATES"] = {
            **framework.get("DEFAULT_THROTTLE_RATES", {}),
            **rates,
        }
        settings.REST_FRAMEWORK = framework

    return change


@pytest.fixture
def fast_hashing(settings) -> None:
    """MD5 instead of PBKDF2: these tests hash dozens of secrets, each 0.5 s otherwise."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hash_checks(fast_hashing) -> mock.MagicMock:
    """Counts the client-secret checks of `/oauth/token` (each the expensive hash)."""
    with mock.patch.object(services, "check_password", wraps=services.check_password) as counted:
        yield counted
