"""Reads of tenants and API clients."""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import QuerySet

from tenants.exceptions import InvalidTenantName, UnknownTenant
from tenants.models import TENANT_NAME_MAX, TENANT_NAME_MIN, TENANT_NAME_PATTERN, ApiClient, Tenant


def tenant_name_check(*, name: str) -> None:
    """Raise InvalidTenantName unless `name` follows the tenant naming rule."""
    if not (TENANT_NAME_MIN <= len(name) <= TENANT_NAME_MAX and TENANT_NAME_PATTERN.match(name)):
        raise InvalidTenantName(
            f"Tenant {name!r} is not a valid tenant name: it must match ^[a-z][a-z0-9]+$ "
            f"and be {TENANT_NAME_MIN} to {TENANT_NAME_MAX} characters long.",
            resource_id=name,
        )


def tenant_get(*, name: str) -> Tenant:
    """The tenant called `name`; raises UnknownTenant when there is none."""
    tenant_name_check(name=name)
    try:
        return Tenant.objects.get(name=name)
    except Tenant.DoesNotExist:
        raise UnknownTenant(f"Tenant {name!r} does not exist.", resource_id=name) from None


# name → (expires at, tenant); per process. Unknown tenants are never remembered.
_tenant_cache: dict[str, tuple[float, Tenant]] = {}


def tenant_get_cached(*, name: str) -> Tenant:
    """`tenant_get`, remembered for `TENANT_CACHE_SECONDS` in this process.

    Every API request resolves its path tenant; tenants change rarely, so this saves a
    query per request. A change saved in this process clears the cache at once (signals
    in `TenantsConfig.ready`); other processes see it within the TTL.
    """
    ttl = settings.TENANT_CACHE_SECONDS
    if ttl <= 0:
        return tenant_get(name=name)
    now = time.monotonic()
    cached = _tenant_cache.get(name)
    if cached is not None and cached[0] > now:
        return cached[1]
    tenant = tenant_get(name=name)
    _tenant_cache[name] = (now + ttl, tenant)
    return tenant


def tenant_cache_clear(**_: object) -> None:
    """Forget every remembered tenant (a signal receiver, hence the keyword arguments)."""
    _tenant_cache.clear()


def api_client_list(*, tenant: Tenant) -> QuerySet[ApiClient]:
    """The API clients of a tenant, revoked ones included."""
    return ApiClient.objects.filter(tenant=tenant).order_by("name", "client_id")
