"""The base of every segments viewset: tenant scoping, languages, list conventions."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django import forms
from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from segments.filtersets import StrictBooleanField
from segmentservice.api.languages import accept_languages, content_language
from segmentservice.api.listing import (
    ListParams,
    apply_query,
    fields_param,
    list_response,
    paginate,
    project,
)
from segmentservice.exceptions import Forbidden, ValidationFailed
from tenants.api.mixins import TenantScopedMixin
from tenants.choices import Scope

MANAGE = (Scope.SEGMENT_MANAGE.value,)
READ = (Scope.SEGMENT_READ.value,)
READ_OR_OWN = (Scope.SEGMENT_READ.value, Scope.SEGMENT_READ_OWN.value)
OWN = (Scope.SEGMENT_READ_OWN.value,)


class TenantViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """A viewset under `/customer-segment/{tenant}/`; subclasses are configuration."""

    lookup_field = "external_id"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Refuse path and query values no column can hold (NUL), before any query runs."""
        super().initial(request, *args, **kwargs)
        values = [*kwargs.values(), *request.query_params.values()]
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise ValidationFailed("The path or a query parameter contains a NUL character.")

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

    def own_customer(self) -> tuple[str, str | None] | None:
        """For a customer caller, (customerId, legalEntityId); None for other callers."""
        if not self.customer_only:
            return None
        if not self.claims.customer_id:
            raise Forbidden("A customersegment.segment_read_own token must carry a customerId.")
        legal_entity = self.claims.legal_entity_id or self.request.query_params.get("legalEntityId")
        return self.claims.customer_id, legal_entity

    def list_rows(
        self,
        queryset: QuerySet,
        *,
        field_map: dict,
        tiebreak: tuple[str, ...],
        render: Callable[[Any], dict[str, Any]],
        q_in_body: bool = False,
    ) -> Response:
        """Filter, order, page, render and project a list, the same way for every resource."""
        params = ListParams.from_request(self.request, q_in_body=q_in_body)
        queryset = apply_query(
            queryset,
            params,
            field_map=field_map,
            default_language=self.tenant.default_language,
            tiebreak=tiebreak,
        )
        rows, total = paginate(queryset, params)
        return list_response(rows, params, total, render)

    def one_row(self, row: Any, render: Callable[[Any], dict[str, Any]]) -> Response:
        """A single rendered resource, projected by `fields`."""
        fields = fields_param(self.request.query_params.get("fields", ""))
        return Response(project(render(row), fields))


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter (as `StrictBooleanField` reads it); absent is False."""
    try:
        return bool(StrictBooleanField().to_python(request.query_params.get(name)))
    except forms.ValidationError as exc:
        raise ValidationFailed(f"{name} {exc.messages[0]}") from None
