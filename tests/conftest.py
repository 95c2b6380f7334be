"""Fixtures shared by every test: tenants, tokens per scope, API clients holding them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test.utils import override_settings
from rest_framework.test import APIClient

from tenants.choices import Scope
from tenants.models import Tenant
from tenants.services import tenant_create
from tenants.tokens import token_issue, verified_tokens_forget

MANAGE = Scope.SEGMENT_MANAGE.value
READ = Scope.SEGMENT_READ.value
READ_OWN = Scope.SEGMENT_READ_OWN.value


def postgres_only(reason: str) -> list:
    """The marks of a test of what only PostgreSQL has: `-m postgres` selects it, and on
    SQLite it is skipped for `reason`."""
    return [
        pytest.mark.postgres,
        pytest.mark.skipif(
            "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason=reason
        ),
    ]


@pytest.fixture(scope="session", autouse=True)
def _local_cache():
    """Tests cache in local memory, whatever CACHE_URL the environment names: clearing it
    between tests must never empty a Redis database someone uses."""
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=local):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: no throttle counts, no remembered API clients,
    no tokens a worker verified before."""
    cache.clear()
    verified_tokens_forget()


@pytest.fixture
def tenant(db) -> Tenant:
    """The tenant most tests work in: English by default, German and French allowed."""
    return tenant_create(name="acme", default_language="en", languages=["en", "de", "fr"])


@pytest.fixture
def other_tenant(db) -> Tenant:
    """A second tenant, for isolation tests."""
    return tenant_create(name="globex", default_language="en", languages=["en"])


@pytest.fixture
def make_token() -> Callable[..., str]:
    """Issue a real signed token: make_token(tenant, MANAGE, READ, customer=..., legal_entity=...)."""

    def make(
        tenant: Tenant | str,
        *scopes: str,
        customer: str | None = None,
        legal_entity: str | None = None,
        ttl: int | None = None,
    ) -> str:
        name = tenant if isinstance(tenant, str) else tenant.name
        token, _ = token_issue(
            tenant=name,
            scopes=list(scopes),
            ttl_seconds=ttl,
            customer_id=customer,
            legal_entity_id=legal_entity,
        )
        return token

    return make


@pytest.fixture
def make_client(make_token) -> Callable[..., APIClient]:
    """An APIClient sending a token with the given scopes: make_client(tenant, READ)."""

    def make(tenant: Tenant | str, *scopes: str, **kwargs) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(tenant, *scopes, **kwargs)}")
        return client

    return make


@pytest.fixture
def manage_client(tenant, make_client) -> APIClient:
    """A client with segment_manage for `tenant`."""
    return make_client(tenant, MANAGE)


@pytest.fixture
def read_client(tenant, make_client) -> APIClient:
    """A client with segment_read for `tenant`."""
    return make_client(tenant, READ)


@pytest.fixture
def admin_client_api(tenant, make_client) -> APIClient:
    """A client with every scope for `tenant`."""
    return make_client(tenant, MANAGE, READ)


@pytest.fixture
def anon_client() -> APIClient:
    """A client without a token."""
    return APIClient()
