"""Reads of segments."""

from __future__ import annotations

from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import Q, QuerySet
from django.utils import timezone

from segments.choices import SegmentStatus
from segments.exceptions import SegmentNotFound
from segments.models import Customer, LegalEntity, Segment
from segments.selectors.membership import membership_segment_ids
from segmentservice.db import QueryTemplate
from tenants.models import Tenant
from tenants.selectors import tenant_rows


def effective_q(*, at: datetime | None = None, prefix: str = "") -> Q:
    """The condition 'ACTIVE and `at` inside validity' on Segment (or via `prefix`, e.g. 'segment__')."""
    at = at or timezone.now()
    return (
        Q(**{f"{prefix}status": SegmentStatus.ACTIVE})
        & (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": at}))
        & (Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": at}))
    )


def segment_list(
    *,
    tenant: Tenant,
    customer_id: str | None = None,
    legal_entity_id: str | None = None,
    only_effective: bool = False,
) -> QuerySet[Segment]:
    """The tenant's segments, optionally only those a customer is assigned to."""
    queryset = Segment.objects.filter(tenant=tenant)
    if customer_id is not None:
        queryset = segments_of_customer(
            queryset, tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
        )
    if only_effective:
        queryset = queryset.filter(effective_q())
    return queryset


def segments_of_customer(
    queryset: QuerySet[Segment], *, tenant: Tenant, customer_id: str, legal_entity_id: str | None
) -> QuerySet[Segment]:
    """Keep the segments a customer belongs to, directly or through a group.

    `legal_entity_id` is the legal entity the customer acts for; the rule is
    `segments.selectors.membership`'s. The ids come first, from `customer_segment_ids`,
    so the rows are looked up by primary key.
    """
    ids = customer_segment_ids(
        tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
    )
    return segments_with_ids(queryset, tenant=tenant, segment_ids=ids)


def segments_with_ids(
    queryset: QuerySet[Segment], *, tenant: Tenant, segment_ids: list[int]
) -> QuerySet[Segment]:
    """Keep the tenant's segments of `segment_ids` (a customer's, from `customer_segment_ids`)."""
    return tenant_rows(queryset, tenant=tenant).filter(id__in=segment_ids)


def customer_segment_ids(
    *,
    tenant: Tenant,
    customer_id: str,
    legal_entity_id: str | None,
    only_effective: bool = False,
) -> list[int]:
    """The ids of the (few) segments a customer belongs to, `only_effective` or all.

    One query of its own, driven from the customer (the membership rule's subquery, by the
    (tenant, customer) and group-member indexes). A customer-scoped read then filters by
    this list of ids, so its plan starts from the customer's segments whatever the table
    statistics say: a tenant loaded a moment ago and never analyzed plans like an old one
    (a subquery in its place lets PostgreSQL start from the other end on a fresh tenant,
    e.g. every category assignment of the tenant, when its estimates are tiny).

    The query is the ORM's (`_customer_segments`), compiled once per shape and database
    (`QueryTemplate`): building it cost 40% of the CPU of a customer's read.
    """
    template = _CUSTOMER_SEGMENTS[(legal_entity_id is not None, only_effective)]
    values = {"tenant": tenant.pk, "customer_id": customer_id}
    if legal_entity_id is not None:
        values["legal_entity_id"] = legal_entity_id
    if only_effective:
        values["at"] = timezone.now()
    rows = template.rows(using=router.db_for_read(Segment) or DEFAULT_DB_ALIAS, **values)
    return sorted(row[0] for row in rows)


def _customer_segments(
    *,
    tenant: str,
    customer_id: str,
    legal_entity_id: str | None = None,
    at: datetime | None = None,
) -> QuerySet:
    """The ids of the segments a customer belongs to (effective at `at` if given)."""
    scope = Tenant(name=tenant)
    segments = Segment.objects.filter(
        tenant=scope,
        id__in=membership_segment_ids(
            tenant=scope, customer_id=customer_id, legal_entity_id=legal_entity_id
        ),
    )
    if at is not None:
        segments = segments.filter(effective_q(at=at))
    return segments.order_by().values_list("id", flat=True)


def _customer_segments_template(*, legal_entity: bool, effective: bool) -> QueryTemplate:
    fields = {
        "tenant": Segment._meta.get_field("tenant"),
        "customer_id": Customer._meta.get_field("external_id"),
    }
    if legal_entity:
        fields["legal_entity_id"] = LegalEntity._meta.get_field("external_id")
    if effective:
        fields["at"] = Segment._meta.get_field("valid_from")
    return QueryTemplate(_customer_segments, **fields)


_CUSTOMER_SEGMENTS = {
    (legal_entity, effective): _customer_segments_template(
        legal_entity=legal_entity, effective=effective
    )
    for legal_entity in (False, True)
    for effective in (False, True)
}


def segment_get(
    *, tenant: Tenant, segment_id: str, queryset: QuerySet[Segment] | None = None
) -> Segment:
    """One segment by its id (among `queryset`, kept to the tenant); raises SegmentNotFound."""
    return segment_found(
        list(segment_lookup(tenant=tenant, segment_id=segment_id, queryset=queryset)),
        segment_id=segment_id,
    )


def segment_lookup(
    *, tenant: Tenant, segment_id: str, queryset: QuerySet[Segment] | None = None
) -> QuerySet[Segment]:
    """What `segment_get` reads: the segment with this id among `queryset` (kept to the
    tenant, by default all its segments), unordered, at most two rows to tell one from
    many: what `QuerySet.get` would send."""
    if queryset is None:
        queryset = Segment.objects.filter(tenant=tenant)
    return tenant_rows(queryset, tenant=tenant).filter(external_id=segment_id).order_by()[:2]


def segment_found(rows: list[Segment], *, segment_id: str) -> Segment:
    """The one segment of `segment_lookup`'s rows; SegmentNotFound when there is none."""
    if not rows:
        raise SegmentNotFound(
            f"The segment with id {segment_id} has not been found.", resource_id=segment_id
        )
    if len(rows) > 1:
        raise Segment.MultipleObjectsReturned(f"More than one segment with id {segment_id}.")
    return rows[0]
