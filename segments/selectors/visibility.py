"""What a customer (a `segment_read_own` token) may read, for every kind of row.

A customer reads its own effective segments (those it belongs to directly or through a
group, as `segments.selectors.membership` says), the rows of those segments, of the
customer assignments only its own, and of the group assignments only those through which
it belongs. `TenantScopedViewSet` applies this to whatever a viewset lists, so a
viewset cannot forget it; a model without a rule here is refused, not shown.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import QuerySet

from segments.models import CustomerAssignment, GroupAssignment, Segment
from segments.selectors.customer_assignments import customer_context_q
from segments.selectors.membership import counting_group_assignments
from segments.selectors.segments import customer_segment_ids
from tenants.models import Tenant
from tenants.selectors import tenant_rows


def customer_visible_rows(
    queryset: QuerySet,
    *,
    tenant: Tenant,
    customer_id: str,
    legal_entity_id: str | None,
    segment_ids: list[int] | None = None,
) -> QuerySet:
    """The rows of `queryset` (the tenant's) that the customer may read.

    `segment_ids` are the customer's effective segments' ids when the caller has them
    already (`customer_segment_ids(..., only_effective=True)`); else they are read here.
    Every rule filters by that list of ids, so each read starts from the customer's
    segments (see `customer_segment_ids`).
    """
    queryset = tenant_rows(queryset, tenant=tenant)
    model = queryset.model
    if model is not Segment:
        try:
            model._meta.get_field("segment")
        except FieldDoesNotExist:
            raise ImproperlyConfigured(
                f"No rule says which {model.__name__} rows a customer may read."
            ) from None
    if segment_ids is None:
        segment_ids = customer_segment_ids(
            tenant=tenant,
            customer_id=customer_id,
            legal_entity_id=legal_entity_id,
            only_effective=True,
        )
    if model is Segment:
        return queryset.filter(id__in=segment_ids)
    if model is CustomerAssignment:
        queryset = queryset.filter(
            customer_context_q(
                tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
            )
        )
    elif model is GroupAssignment:
        counting = counting_group_assignments(
            tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
        )
        queryset = queryset.filter(pk__in=counting.values("pk"))
    return queryset.filter(segment_id__in=segment_ids)
