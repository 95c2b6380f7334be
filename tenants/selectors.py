"""Reads of tenants and API clients."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet

from tenants.exceptions import InvalidTenantName, UnknownTenant
from tenants.models import TENANT_NAME_MAX, TENANT_NAME_MIN, TENANT_NAME_PATTERN, ApiClient, Tenant

logger = logging.getLogger(__name__)


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


def _api_client_key(client_id: str) -> str:
    return f"apiclient-active:{client_id}"


def api_client_is_active(*, client_id: str) -> bool:
    """Whether the API client `client_id` exists and is not revoked.

    Asked on every request with a granted token, so remembered in the cache for
    `API_CLIENT_CACHE_SECONDS`; saving or deleting a client forgets it at once (signals in
    `TenantsConfig.ready`), in every worker when the cache is shared. A worker that missed
    that (local-memory cache, another process) sees the change when its entry expires.
    """
    key = _api_client_key(client_id)
    try:
        active = cache.get(key)
    except Exception:
        logger.warning("API client %s looked up without the cache.", client_id, exc_info=True)
        active = None
    if active is None:
        active = ApiClient.objects.filter(client_id=client_id, revoked_at__isnull=True).exists()
        try:
            cache.set(key, active, timeout=settings.API_CLIENT_CACHE_SECONDS)
        except Exception:
            logger.warning("API client %s not remembered.", client_id, exc_info=True)
    return active


def api_client_cache_forget(*, instance: ApiClient, **_: object) -> None:
    """Forget whether a saved or deleted client is active (a signal receiver).

    Forgotten now and again after the commit, so a request reading the old row meanwhile
    cannot keep it remembered.
    """
    key = _api_client_key(instance.client_id)

    def forget() -> None:
        try:
            cache.delete(key)
        except Exception:
            logger.warning("API client %s not forgotten.", instance.client_id, exc_info=True)

    forget()
    transaction.on_commit(forget)
