"""Reads of item assignments: the products and categories assigned to segments."""

from __future__ import annotations

from django.db.models import CharField, F, QuerySet
from django.db.models.functions import Coalesce

from segments.choices import ItemType
from segments.exceptions import AssignmentNotFound
from segments.models import ItemAssignment, Segment
from segmentservice.exceptions import ValidationFailed
from segmentservice.fields import JSONField
from tenants.models import Tenant
from tenants.selectors import tenant_rows


def item_type_parse(raw: str) -> ItemType:
    """`PRODUCT` or `CATEGORY` from a path, in any letter case; anything else is a 400."""
    try:
        return ItemType(raw.upper())
    except ValueError:
        raise ValidationFailed(
            f"Unknown item type {raw!r}: the type is PRODUCT or CATEGORY (any letter case).",
            resource_id=raw,
        ) from None


def item_assignment_list(
    *,
    tenant: Tenant,
    segment: Segment | None = None,
    segments: QuerySet[Segment] | None = None,
    queryset: QuerySet[ItemAssignment] | None = None,
) -> QuerySet[ItemAssignment]:
    """Item assignments with their segment's id and their item's columns annotated.

    Starts from `queryset` (kept to the tenant) or all the tenant's item assignments.
    `segment` keeps one segment's items; `segments` keeps those of a set of segments (a
    customer's own); `segments.filtersets.ItemAssignmentFilterSet` narrows by site and
    effectiveness. `segment_external_id` is the segment's id; `item_external_id`,
    `item_code` and `item_name` are the product's or the category's, whichever the row
    holds, so `q` and `sort` can address `item.*`.
    """
    if queryset is None:
        queryset = ItemAssignment.objects.filter(tenant=tenant)
    queryset = (
        tenant_rows(queryset, tenant=tenant)
        # The document needs only these few joined columns: annotating them instead of
        # select_related("segment", "product", "category") builds one model per row, not
        # four, and decodes two JSON columns per row, not eleven.
        .annotate(
            segment_external_id=F("segment__external_id"),
            item_external_id=Coalesce(
                F("product__external_id"), F("category__external_id"), output_field=CharField()
            ),
            item_code=Coalesce(F("product__code"), F("category__code"), output_field=CharField()),
            item_name=Coalesce(F("product__name"), F("category__name"), output_field=JSONField()),
        )
    )
    if segment is not None:
        queryset = queryset.filter(segment=segment)
    if segments is not None:
        queryset = queryset.filter(segment__in=tenant_rows(segments, tenant=tenant).values("id"))
    return queryset


def item_assignment_get(
    *,
    tenant: Tenant,
    segment: Segment,
    type: ItemType,
    item_id: str,
    queryset: QuerySet[ItemAssignment] | None = None,
) -> ItemAssignment:
    """One item assignment by item type and id; raises AssignmentNotFound.

    It is looked for among `queryset` (rows of `item_assignment_list` for `segment`, perhaps
    narrowed further), by default among all the segment's.
    """
    if queryset is None:
        queryset = item_assignment_list(tenant=tenant, segment=segment)
    queryset = tenant_rows(queryset, tenant=tenant).filter(type=type)
    if type == ItemType.PRODUCT:
        queryset = queryset.filter(product__external_id=item_id)
    else:
        queryset = queryset.filter(category__external_id=item_id)
    assignment = queryset.first()
    if assignment is None:
        raise AssignmentNotFound(
            item_missing_message(segment.external_id, type, item_id), resource_id=item_id
        )
    return assignment


def item_missing_message(segment_id: str, type: ItemType, item_id: str) -> str:
    """The 404 message for an item assignment that does not exist."""
    return (
        f"The {type.label.lower()} with id {item_id} is not assigned to the segment with id "
        f"{segment_id}."
    )
