"""Reads of tenants and API clients."""

from __future__ import annotations

import graphlib
import json
import logging
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.models import QuerySet
from django.db.models.expressions import Col
from django.db.models.lookups import Exact
from django.db.models.sql.where import AND

from segmentservice.db import prepared_cursor
from tenants.exceptions import InvalidTenantName, UnknownTenant
from tenants.models import TENANT_NAME_MAX, TENANT_NAME_MIN, TENANT_NAME_PATTERN, ApiClient, Tenant

logger = logging.getLogger(__name__)

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
    return _tenant_read(name, _TENANT_SQL, 0)[0]


@dataclass(frozen=True)
class TenantRow:
    """A row of another table keyed by the tenant (its primary key), to read in the same
    statement as the tenant: one round trip to the database instead of two."""

    model: type[models.Model]
    columns: tuple[str, ...]
    key: str = "tenant_id"

    def sql(self) -> str:
        """The tenant's columns, then the row's (NULL when the tenant has no such row)."""
        qn = connections[DEFAULT_DB_ALIAS].ops.quote_name
        table = self.model._meta.db_table
        columns = ", ".join(f"r.{qn(c)}" for c in (self.key, *self.columns))
        return (
            f"SELECT t.default_language, t.languages, t.created_at, {columns} "
            f"FROM {Tenant._meta.db_table} t LEFT JOIN {qn(table)} r "
            f"ON r.{qn(self.key)} = t.name WHERE t.name = %s"
        )


def tenant_get_with(*, name: str, row: TenantRow) -> tuple[Tenant, tuple | None]:
    """The tenant called `name` (as `tenant_get`) and its `row` (the row's `columns`, None
    when it has none), read in one statement."""
    tenant, rest = _tenant_read(name, row.sql(), 1 + len(row.columns))
    return tenant, (None if rest[0] is None else rest[1:])


def _tenant_read(name: str, sql: str, extra: int) -> tuple[Tenant, tuple]:
    tenant_name_check(name=name)
    using = router.db_for_read(Tenant)
    connection = connections[using]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [name])
        row = cursor.fetchone()
    if row is None:
        raise UnknownTenant(f"Tenant {name!r} does not exist.", resource_id=name)
    default_language, languages, created_at = row[:3]
    if isinstance(languages, str | bytes):  # JSON comes back as text on some backends
        languages = json.loads(languages)
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if created_at is not None and convert is not None:  # SQLite: naive or text
        created_at = convert(created_at, None, connection)
    tenant = Tenant.from_db(using, _TENANT_FIELDS, [name, default_language, languages, created_at])
    return tenant, tuple(row[3 : 3 + extra])


def tenant_exists(*, name: str) -> bool:
    """Whether a tenant called `name` exists now (read from the database, never remembered)."""
    return Tenant.objects.filter(name=name).exists()


def tenant_rows(queryset: QuerySet, *, tenant: Tenant) -> QuerySet:
    """The rows of `queryset` that belong to `tenant`: `queryset.filter(tenant=tenant)`.

    Every layer that must not let another tenant's rows through applies this (selectors,
    filter sets, the viewsets' `get_queryset`), so it does not repeat the condition when the
    queryset's WHERE already says exactly that; when it cannot tell, it filters again,
    which is always safe. Anything but a QuerySet is a TypeError: a missing queryset
    (None) must never fall back to a model's every row.
    """
    if not isinstance(queryset, QuerySet):
        raise TypeError(f"tenant_rows needs a queryset of the tenant's rows, not {queryset!r}.")
    query = queryset.query
    if query.where.connector == AND and not query.where.negated:
        for condition in query.where.children:
            column = getattr(condition, "lhs", None)
            if (
                isinstance(condition, Exact)
                and isinstance(column, Col)
                and column.alias == query.base_table
                and column.target.name == "tenant"
                and condition.rhs == tenant.pk
            ):
                return queryset
    return queryset.filter(tenant=tenant)


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
            field.name == "tenant"
            and (field.many_to_one or field.one_to_one)
            and field.related_model is Tenant
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
