"""Tenant scoping, applied once for every tenant endpoint.

Every view under `/customer-segment/{tenant}/` inherits `TenantScopedMixin`. After DRF
has authenticated the token and checked its scopes, `initial()` checks the path tenant
(400 when malformed, 403 when the token is another tenant's, 404 when unknown) and sets
`self.tenant`. The viewset base of the segments API (`segments.api.views.base`) reads
rows only through its `get_queryset`, filtered to that tenant (and for a customer's
token to what the customer may see), which its subclasses cannot override; writes go
through services that take the tenant.

The tenant is read from the database on every request, never remembered by a worker: a
tenant deleted by another worker, the admin, a command or plain SQL is a 404 on the very
next request everywhere (one primary-key read per request is its price). A tenant that
goes away while a write is under way fails that write's foreign key; that too is its 404.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from rest_framework.request import Request
from rest_framework.response import Response

from tenants.exceptions import TenantMismatch, UnknownTenant
from tenants.models import Tenant
from tenants.selectors import tenant_exists, tenant_get, tenant_name_check
from tenants.tokens import TokenClaims


class TenantScopedMixin:
    """Resolves `self.tenant` from the path and the token, for every request."""

    tenant: Tenant
    claims: TokenClaims

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Authenticate, check scopes, then check and load the path tenant."""
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        name = self.kwargs["tenant"]  # type: ignore[attr-defined]
        tenant_name_check(name=name)
        self.claims = request.auth
        if self.claims.tenant != name:
            raise TenantMismatch(
                f"The token is for another tenant than {name!r}.", resource_id=name
            )
        self.tenant = self.tenant_load(name)

    def tenant_load(self, name: str) -> Tenant:
        """The path tenant, read afresh; a subclass may read more in the same statement."""
        return tenant_get(name=name)

    def handle_exception(self, exc: Exception) -> Response:
        """A write whose tenant was deleted under it answers 404, as the next request will."""
        tenant = getattr(self, "tenant", None)
        if (
            isinstance(exc, IntegrityError)
            and tenant is not None
            and not tenant_exists(name=tenant.name)
        ):
            exc = UnknownTenant(f"Tenant {tenant.name!r} does not exist.", resource_id=tenant.name)
        return super().handle_exception(exc)  # type: ignore[misc]
