"""Reads of tenants and API clients."""

from __future__ import annotations

import graphlib
import time

from django.apps import apps
from django.conf import settings
from django.db import models
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


def tenant_owned_models() -> list[type[models.Model]]:
    """Every model whose rows belong to a tenant, in an order they can be deleted in.

    A model comes before every model it refers to, so deleting in this order never leaves
    a row pointing at a deleted one (a tree's reference to itself is cut first, see
    `tenant_delete`). Found from the models' `tenant` foreign keys, so a model added later
    is included without being named here.
    """
    owned = [
        model
        for model in apps.get_models()
        if any(
            field.name == "tenant" and field.many_to_one and field.related_model is Tenant
            for field in model._meta.concrete_fields
        )
    ]
    owned.sort(key=lambda model: model._meta.label)
    # Each model waits for the models that refer to it.
    sorter = graphlib.TopologicalSorter({model: set() for model in owned})
    for model in owned:
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target in owned and target is not model:
                sorter.add(target, model)
    return list(sorter.static_order())


def tenant_row_counts(*, tenants: list[Tenant]) -> dict[str, int]:
    """How many rows each kind holds for `tenants`, in deletion order: one count per table.

    Kinds are the models' plural names, e.g. `{"customer assignments": 120000, ...}`.
    """
    names = [tenant.pk for tenant in tenants]
    return {
        str(model._meta.verbose_name_plural): model._base_manager.filter(
            tenant_id__in=names
        ).count()
        for model in tenant_owned_models()
    }


def row_counts_text(counts: dict[str, int]) -> str:
    """`120,000 customer assignments, 1 API client`: the kinds of `tenant_row_counts` with rows."""
    singular = {
        str(model._meta.verbose_name_plural): str(model._meta.verbose_name)
        for model in tenant_owned_models()
    }
    parts = [
        f"{n:,} {singular.get(kind, kind) if n == 1 else kind}" for kind, n in counts.items() if n
    ]
    return ", ".join(parts) or "no rows"
