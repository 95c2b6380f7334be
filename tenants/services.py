"""Writes of tenants and API clients, and the client-credentials token grant."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from segmentservice.exceptions import AlreadyExists, ValidationFailed
from tenants.choices import ALL_SCOPES
from tenants.exceptions import InvalidClient, InvalidScope
from tenants.models import ApiClient, Tenant
from tenants.selectors import tenant_name_check
from tenants.tokens import token_issue


@dataclass(frozen=True)
class IssuedClient:
    """A new API client and its secret, which is shown this once and never stored."""

    client: ApiClient
    client_secret: str


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
