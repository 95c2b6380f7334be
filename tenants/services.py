"""Writes of tenants and API clients, and the client-credentials token grant."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.utils import timezone

from segmentservice.exceptions import AlreadyExists, ValidationFailed
from tenants.choices import ALL_SCOPES
from tenants.exceptions import InvalidClient, InvalidScope
from tenants.models import ApiClient, Tenant
from tenants.selectors import (
    row_counts_text,
    tenant_name_check,
    tenant_owned_models,
)
from tenants.tokens import token_issue

logger = logging.getLogger(__name__)

TENANT_DELETE_CHUNK = 5_000


@dataclass(frozen=True)
class IssuedClient:
    """A new API client and its secret, which is shown this once and never stored."""

    client: ApiClient
    client_secret: str


@dataclass(frozen=True)
class TenantDeletion:
    """What deleting a tenant took: rows per kind (plural model names) and the time."""

    tenant: str
    counts: dict[str, int]
    seconds: float

    @property
    def summary(self) -> str:
        """`120,000 customer assignments, 300 segments, ...`: the kinds that had rows."""
        return row_counts_text(self.counts)


@dataclass(frozen=True)
class GrantedToken:
    """The answer to a client-credentials grant."""

    access_token: str
    expires_in: int
    scopes: list[str]


def scopes_parse(*, text: str) -> list[str]:
    """Split and check a space-separated scope list; raises InvalidScope on unknown ones."""
    scopes = list(dict.fromkeys(text.split()))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise InvalidScope(
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(sorted(ALL_SCOPES))}."
        )
    return scopes


@transaction.atomic
def tenant_create(
    *, name: str, default_language: str = "en", languages: list[str] | None = None
) -> Tenant:
    """Create a tenant; its default language is always among its languages."""
    tenant_name_check(name=name)
    languages = list(dict.fromkeys(languages or [default_language]))
    if default_language not in languages:
        languages.insert(0, default_language)
    if Tenant.objects.filter(name=name).exists():
        raise AlreadyExists(f"Tenant {name!r} already exists.", resource_id=name)
    tenant = Tenant(name=name, default_language=default_language, languages=languages)
    try:
        tenant.full_clean()
    except ValidationError as exc:
        raise ValidationFailed("; ".join(exc.messages)) from exc
    tenant.save()
    return tenant


@transaction.atomic
def api_client_create(*, tenant: Tenant, scopes: str, name: str = "") -> IssuedClient:
    """Create an API client; the returned secret is the only copy there will be."""
    scope_list = scopes_parse(text=scopes)
    if not scope_list:
        raise InvalidScope("An API client needs at least one scope.")
    secret = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        tenant=tenant,
        name=name,
        client_id=f"{tenant.name}-{secrets.token_hex(8)}",
        secret_hash=make_password(secret),
        scopes=" ".join(scope_list),
    )
    return IssuedClient(client=client, client_secret=secret)


@transaction.atomic
def api_client_revoke(*, client: ApiClient) -> ApiClient:
    """Revoke a client: it obtains no more tokens, and those it holds are refused
    (within `API_CLIENT_CACHE_SECONDS` in workers that do not share the cache)."""
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def client_credentials_grant(
    *, client_id: str, client_secret: str, scope: str | None = None
) -> GrantedToken:
    """Exchange client credentials for a token, optionally narrowed to `scope`."""
    client = ApiClient.objects.filter(client_id=client_id).first()
    # Hash even when the client is unknown, so timing does not tell which ids exist.
    valid = check_password(client_secret, client.secret_hash if client else make_password(None))
    if client is None or not valid or not client.is_active:
        raise InvalidClient()
    granted = client.scope_list
    if scope:
        asked = scope.split()
        extra = [s for s in asked if s not in granted]
        if extra:
            raise InvalidScope(f"Scope(s) not granted to this client: {', '.join(extra)}.")
        granted = [s for s in granted if s in asked]
    token, ttl = token_issue(
        tenant=client.tenant_id,
        scopes=granted,
        subject=client.client_id,
        client_id=client.client_id,
    )
    return GrantedToken(access_token=token, expires_in=ttl, scopes=granted)


def tenant_delete(
    *,
    tenant: Tenant,
    chunk_size: int = TENANT_DELETE_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> TenantDeletion:
    """Delete a tenant and every row of its, children first, in chunks; no change events.

    Each table is emptied of the tenant's rows `chunk_size` at a time, one short
    transaction per chunk, with plain `DELETE`s (no model instances, no signals, no
    cascade collection), calling `progress(rows)` after each chunk. Its events and webhook
    endpoints go too, so no deleted events are recorded: nobody would receive them. The
    tenant row goes last, in one transaction with a last sweep of every table (for rows
    written meanwhile), so a delete that stops half way leaves the tenant there and can
    simply be run again. One line of outcome goes to the log.

    Example: `tenant_delete(tenant=acme)` →
    `TenantDeletion(tenant="acme", counts={"customer assignments": 120000, ...}, seconds=4.2)`
    """
    if chunk_size < 1:
        raise ValidationFailed(f"The chunk size must be at least 1, not {chunk_size}.")
    started = time.monotonic()
    owned = tenant_owned_models()
    counts: dict[str, int] = {}
    for model in owned:
        _self_references_cut(model, tenant)
        counts[str(model._meta.verbose_name_plural)] = _rows_delete(
            model, tenant, chunk_size, progress
        )
    # `_raw_delete` here and in `_rows_delete` is private Django API (one DELETE, no
    # collector): tests/test_private_apis.py pins it.
    with transaction.atomic(using=router.db_for_write(Tenant)):
        for model in owned:
            late = _rows_of(model, tenant)._raw_delete(router.db_for_write(model))
            counts[str(model._meta.verbose_name_plural)] += late
        Tenant._base_manager.filter(pk=tenant.pk)._raw_delete(router.db_for_write(Tenant))
    deletion = TenantDeletion(tenant=tenant.pk, counts=counts, seconds=time.monotonic() - started)
    logger.info(
        "Deleted tenant %s in %.1f s: %s.", deletion.tenant, deletion.seconds, deletion.summary
    )
    return deletion


def _rows_of(model: type[models.Model], tenant: Tenant) -> models.QuerySet:
    return model._base_manager.filter(tenant_id=tenant.pk)


def _self_references_cut(model: type[models.Model], tenant: Tenant) -> None:
    """Clear a tree's references to itself (a category's parent) before its rows go."""
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is model:
            if not field.null:
                raise ValidationFailed(
                    f"{model._meta.label}.{field.name} refers to its own table and is not "
                    "nullable: tenant_delete cannot order those rows."
                )
            _rows_of(model, tenant).filter(**{f"{field.name}__isnull": False}).update(
                **{field.name: None}
            )


def _rows_delete(
    model: type[models.Model],
    tenant: Tenant,
    chunk_size: int,
    progress: Callable[[int], None] | None,
) -> int:
    """Delete the tenant's rows of one table, `chunk_size` per statement; returns the count."""
    database = router.db_for_write(model)
    rows = _rows_of(model, tenant)
    total = 0
    while True:
        # DELETE ... WHERE id IN (SELECT id ... WHERE tenant_id = %s LIMIT n)
        chunk = model._base_manager.filter(pk__in=rows.values("pk")[:chunk_size])
        with transaction.atomic(using=database):
            deleted = chunk._raw_delete(database)
        total += deleted
        if progress is not None and deleted:
            progress(deleted)
        if deleted < chunk_size:
            return total
