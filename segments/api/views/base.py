"""The base of every segments viewset: tenant scoping, languages, list conventions.

Scoping is a mechanism of `TenantScopedViewSet`, not a convention of its subclasses (PostHog's
`safely_get_queryset` is the model):

- `initial` checks the token and the path tenant and resolves `self.customer`: the customer
  a request reads as, or None for a reader. An action reached only through
  `segment_read_own` by a token without a `customerId` is a 403 before it runs, so no
  customer action ever sees None.
- `get_queryset` gives the tenant's rows of the viewset's `queryset` model, refined by the
  subclass's `safely_get_queryset(queryset)`; whatever that hook returns is kept to the
  tenant, and for a customer to what `customer_visible_rows` lets it read.
- `visible_segments` is the segments the caller reads through: all the tenant's for a
  reader, a customer's own effective ones for a customer.

Dry runs are a mechanism of the base too: `initial` turns a write (`is_write`: any action
but a GET and the viewset's `read_actions`) asked with `dryRun=true` into a run of its
handler in a transaction that is rolled back (`segmentservice.api.dryrun`), and
`finalize_response` marks its answer `X-Dry-Run: true`; `dryRun` with another value
than true or false is a 400 naming it.

A customer's reads are driven from its segments: `own_segment_ids` reads their ids once per
request, and every rule filters by that list (see `customer_segment_ids`).

Conditional GETs live here too, so any GET with a customer's token has them, and the
actions a subclass names in `conditional_actions` for every caller: `initial` reads the
tenant's version before any data and answers 304 when `If-None-Match` names the ETag;
`finalize_response` puts the ETag and caching headers on a 200
(`segmentservice.api.conditional`).

A subclass that defines `initial`, `get_queryset`, `visible_segments`, `handle_exception` or
`finalize_response` is refused when its class is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.views import compiled
from segments.filtersets import StrictBooleanField
from segments.models import Segment
from segments.selectors.changes import counter_version, tenant_get_with_counter
from segments.selectors.segments import customer_segment_ids, segment_list
from segments.selectors.visibility import customer_visible_rows
from segmentservice.api import dryrun
from segmentservice.api.conditional import (
    NotModified,
    conditional_headers,
    if_none_match,
    not_modified,
    response_etag,
)
from segmentservice.api.dryrun import is_write
from segmentservice.api.languages import accept_languages, content_language
from segmentservice.api.listing import (
    LIST_BACKENDS,
    ContractPagination,
    project,
    requested_fields,
    total_requested,
)
from segmentservice.api.schema import PlainPageSchema
from segmentservice.exceptions import Forbidden, ValidationFailed
from tenants.api.mixins import TenantScopedMixin
from tenants.choices import Scope
from tenants.models import Tenant
from tenants.selectors import tenant_rows
from tenants.tokens import TokenClaims

MANAGE = (Scope.SEGMENT_MANAGE.value,)
READ = (Scope.SEGMENT_READ.value,)
READ_OR_OWN = (Scope.SEGMENT_READ.value, Scope.SEGMENT_READ_OWN.value)
OWN = (Scope.SEGMENT_READ_OWN.value,)

# What TenantScopedViewSet's subclasses may not define: the scoping itself.
FINAL = ("initial", "get_queryset", "visible_segments", "handle_exception", "finalize_response")
NO_CUSTOMER = "A customersegment.segment_read_own token must carry a customerId."


@dataclass(frozen=True)
class ActingCustomer:
    """The customer a request reads as: from its token, perhaps acting for a legal entity."""

    customer_id: str
    legal_entity_id: str | None


def request_customer(
    claims: TokenClaims, needed: tuple[str, ...], legal_entity_param: str | None
) -> ActingCustomer | None:
    """Who a request with these claims reads as, for an action any of `needed` grants.

    A customer token reads as its customer (a legal entity from the token, else from the
    `legalEntityId` parameter). A token without a customer reads as a reader when a scope
    other than `segment_read_own` grants the action (`segment_read` is the broader one);
    when only `segment_read_own` does, there is no one to read as: Forbidden.
    """
    if claims.customer_id is not None:
        if not claims.customer_id:
            raise Forbidden(NO_CUSTOMER)
        return ActingCustomer(claims.customer_id, claims.legal_entity_id or legal_entity_param)
    if claims.scopes & (set(needed) - set(OWN)):
        return None
    raise Forbidden(NO_CUSTOMER)


class TenantScopedViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """A viewset under `/customer-segment/{tenant}/`; subclasses are configuration.

    Subclasses name their rows' model with `queryset` and refine what `get_queryset`
    gives with `safely_get_queryset`; see the module docstring for what they cannot do.
    """

    lookup_field = "external_id"
    customer: ActingCustomer | None = None
    # POSTs that only read: a request to any other action but a GET is a write, which
    # `dryRun=true` turns into a dry run (segmentservice.api.dryrun).
    read_actions: frozenset[str] = frozenset({"search"})
    dry_run = False
    # Lists: `fields`, `q` and `sort` over the resource's fields, then a page of it.
    filter_backends = LIST_BACKENDS
    pagination_class = ContractPagination
    schema = PlainPageSchema()
    query_fields: dict = {}
    ordering_tiebreak: tuple = ()
    # GETs that answer with an ETag for every caller; a customer's token gets one on every
    # GET (see `conditional_etag`).
    conditional_actions: tuple[str, ...] = ()
    etag: str | None = None
    # The tenant's change counter row, read with the tenant (`tenant_load`).
    counter: tuple | None = None
    # The customer a reader's list is about (SegmentViewSet's `customerId`), whose segment
    # ids (`subject_segment_ids`) are read first; the parameters that name it reach the
    # SQL only as those ids (what a compiled read takes as its values).
    subject: ActingCustomer | None = None
    subject_parameters: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in FINAL:
            if name in vars(cls):
                raise ImproperlyConfigured(
                    f"{cls.__name__} overrides {name}: tenant scoping belongs to "
                    f"TenantScopedViewSet. Refine the rows in safely_get_queryset(queryset) instead."
                )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Token, scopes and tenant; values no column can hold (NUL); then who reads."""
        super().initial(request, *args, **kwargs)
        values = [*kwargs.values(), *request.query_params.values()]
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise ValidationFailed("The path or a query parameter contains a NUL character.")
        if self.action is not None:  # None: a method this route does not serve (405)
            self.customer = request_customer(
                self.claims,
                self.required_scopes[self.action],
                request.query_params.get("legalEntityId"),
            )
            if is_write(self, request.method) and query_flag(request, dryrun.PARAMETER):
                # DRF looks the handler up after `initial`: the action runs as a dry run.
                method = request.method.lower()
                setattr(self, method, dryrun.dry_run(getattr(self, method)))
                self.dry_run = True
            self.etag = self.conditional_etag(request)
            if self.etag is not None and if_none_match(request, self.etag):
                raise NotModified

    def tenant_load(self, name: str) -> Tenant:
        """The tenant and its change counter, in one statement: the version is read before
        any data, from the database the data comes from, and a 304 costs one round trip."""
        tenant, self.counter = tenant_get_with_counter(name=name)
        return tenant

    def conditional_etag(self, request: Request) -> str | None:
        """The ETag of this GET, from the tenant's version, read before any data: for every
        GET with a customer's token and the `conditional_actions`; else None."""
        if request.method not in ("GET", "HEAD"):
            return None
        if self.customer is None and self.action not in self.conditional_actions:
            return None
        version = counter_version(self.counter)
        if version is None:
            return None
        who = (self.tenant.pk, self.customer)
        return response_etag(version, request, who)

    def handle_exception(self, exc: Exception) -> Response:
        """A current copy is a 304; everything else as the mixin and DRF answer it."""
        if isinstance(exc, NotModified) and self.etag is not None:
            return not_modified(self.etag)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        """A dry run's response, whatever its status, says it was one; a 200 of a conditional
        GET carries its ETag and caching headers."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.dry_run:
            response[dryrun.HEADER] = "true"
        if self.etag is not None and response.status_code == 200:
            conditional_headers(response, self.etag)
        return response

    def get_queryset(self) -> QuerySet:
        """The rows this request may read: the tenant's, refined, kept to what it may see."""
        model = self.queryset.model
        rows = self.safely_get_queryset(model._default_manager.filter(tenant=self.tenant))
        if not isinstance(rows, QuerySet) or rows.model is not model:
            got = rows.model.__name__ if isinstance(rows, QuerySet) else type(rows).__name__
            raise ImproperlyConfigured(
                f"{type(self).__name__}.safely_get_queryset must return {model.__name__} "
                f"rows, not {got}."
            )
        rows = tenant_rows(rows, tenant=self.tenant)
        if self.customer is not None:
            rows = customer_visible_rows(
                rows,
                tenant=self.tenant,
                customer_id=self.customer.customer_id,
                legal_entity_id=self.customer.legal_entity_id,
                segment_ids=self.own_segment_ids,
            )
        return rows

    def safely_get_queryset(self, queryset: QuerySet) -> QuerySet:
        """Refine the tenant's rows for this action (the hook subclasses override)."""
        return queryset

    def visible_segments(self) -> QuerySet[Segment]:
        """The segments this request reads through: a customer's own effective ones."""
        segments = segment_list(tenant=self.tenant)
        if self.customer is None:
            return segments
        return customer_visible_rows(
            segments,
            tenant=self.tenant,
            customer_id=self.customer.customer_id,
            legal_entity_id=self.customer.legal_entity_id,
            segment_ids=self.own_segment_ids,
        )

    @cached_property
    def own_segment_ids(self) -> list[int]:
        """The ids of the customer's own effective segments, read once per request."""
        assert self.customer is not None
        return customer_segment_ids(
            tenant=self.tenant,
            customer_id=self.customer.customer_id,
            legal_entity_id=self.customer.legal_entity_id,
            only_effective=True,
        )

    @cached_property
    def languages(self) -> list[str] | None:
        """The client's Accept-Language preferences, or None for whole maps.

        Cached for the request: lists render every row with it.
        """
        return accept_languages(self.request.headers.get("Accept-Language"))

    @property
    def content_language(self) -> str | None:
        """The Content-Language of the request body, or None for maps / the default."""
        return content_language(self.request.headers.get("Content-Language"))

    def get_serializer_context(self) -> dict[str, Any]:
        """Serializers localize with the request's languages and the tenant's default."""
        context = super().get_serializer_context()
        tenant = getattr(self, "tenant", None)
        context["languages"] = self.languages
        context["default_language"] = tenant.default_language if tenant else "en"
        context["tenant"] = tenant
        return context

    def list_documents(self, render: Callable[[Any], dict[str, Any]]) -> Response:
        """The rows, filtered, ordered and paged by the declared backends, then rendered and
        projected by `fields`: the same way for every resource."""
        rows = self.page_rows()
        fields = requested_fields(self.request)
        return self.get_paginated_response([project(render(row), fields) for row in rows])

    def page_rows(self) -> list:
        """The rows of the requested page: the declared backends' queryset, paged.

        The page is that queryset compiled once per shape and run with this request's
        values (`segments.api.views.compiled`): a customer's (a storefront asks the same of
        every customer) or a reader's about a customer (`subject`) from its first request,
        any other reader's from the second of its shape (the query string is part of it).
        A count asked for with `X-Total-Count` is not compiled.
        """
        if not total_requested(self.request):
            about_a_customer = self.customer is not None or self.subject is not None
            rows = compiled.compiled_rows(self, compiled.page_queryset, eager=about_a_customer)
            if rows is not None:
                return rows
        return self.paginate_queryset(self.filter_queryset(self.get_queryset()))

    def one_row(self, row: Any, render: Callable[[Any], dict[str, Any]]) -> Response:
        """A single rendered resource, projected by `fields`."""
        return Response(project(render(row), requested_fields(self.request, strict=False)))


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter (as `StrictBooleanField` reads it); absent is False."""
    try:
        return bool(StrictBooleanField().to_python(request.query_params.get(name)))
    except forms.ValidationError as exc:
        raise ValidationFailed(f"{name} {exc.messages[0]}") from None
