"""Reads of tenants and API clients."""

from __future__ import annotations

import json

from django.db import connections, router
from django.db.models import QuerySet

from tenants.exceptions import InvalidTenantName, UnknownTenant
from tenants.models import TENANT_NAME_MAX, TENANT_NAME_MIN, TENANT_NAME_PATTERN, ApiClient, Tenant

_TENANT_FIELDS = ["name", "default_language", "languages", "created_at"]
_TENANT_SQL = (
    f"SELECT default_language, languages, created_at FROM {Tenant._meta.db_table} WHERE name = %s"
)


def tenant_name_check(*, name: str) -> None:
    """Raise InvalidTenantName unless `name` follows the tenant naming rule."""
    if not (TENANT_NAME_MIN <= len(name) <= TENANT_NAME_MAX and TENANT_NAME_PATTERN.match(name)):
        raise InvalidTenantName(
            f"Tenant {name!r} is not a valid tenant name: it must match ^[a-z][a-z0-9]+$ "
            f"and be {TENANT_NAME_MIN} to {TENANT_NAME_MAX} characters long.",
            resource_id=name,
        )


def tenant_get(*, name: str) -> Tenant:
    """The tenant called `name`; raises UnknownTenant when there is none.

    Every API request reads its tenant afresh (so a deleted one is a 404 at once on every
    worker), hence one plain SELECT loaded as the ORM would load it: the same query through
    `Tenant.objects.get` costs five times the worker's CPU.
    """
    tenant_name_check(name=name)
    using = router.db_for_read(Tenant)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_TENANT_SQL, [name])
        row = cursor.fetchone()
    if row is None:
        raise UnknownTenant(f"Tenant {name!r} does not exist.", resource_id=name)
    default_language, languages, created_at = row
    if isinstance(languages, str | bytes):  # JSON comes back as text on some backends
        languages = json.loads(languages)
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if created_at is not None and convert is not None:  # SQLite: naive or text
        created_at = convert(created_at, None, connection)
    return Tenant.from_db(using, _TENANT_FIELDS, [name, default_language, languages, created_at])


def tenant_exists(*, name: str) -> bool:
    """Whether a tenant called `name` exists now (read from the database, never remembered)."""
    return Tenant.objects.filter(name=name).exists()


def api_client_list(*, tenant: Tenant) -> QuerySet[ApiClient]:
    """The API clients of a tenant, revoked ones included."""
    return ApiClient.objects.filter(tenant=tenant).order_by("name", "client_id")
