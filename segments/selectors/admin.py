"""Reads for the admin: list querysets with their counts annotated, so no row costs a query.

Counts are correlated subqueries over the tenant-first indexes rather than JOIN + GROUP BY:
a list page only evaluates them for the rows it shows, and two counts never multiply.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Lower

from segments.models import (
    Category,
    CustomerAssignment,
    CustomerLegalEntity,
    GroupAssignment,
    GroupMember,
    ItemAssignment,
    ProductCategory,
)
from segments.selectors.segments import effective_q


def count_of(model: type[Model], field: str, *, outer: str = "pk", **filters) -> Coalesce:
    """COUNT(*) of `model` rows whose `field` is the outer row's `outer` (same tenant), 0 when
    none."""
    rows = (
        model.objects.filter(tenant_id=OuterRef("tenant_id"), **{field: OuterRef(outer)}, **filters)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def segments_annotated(queryset: QuerySet) -> QuerySet:
    """Segments with `customer_count`, `item_count` and `effective_now`."""
    return queryset.annotate(
        customer_count=count_of(CustomerAssignment, "segment"),
        item_count=count_of(ItemAssignment, "segment"),
        effective_now=ExpressionWrapper(effective_q(), output_field=BooleanField()),
    )


def segments_sortable_by_name(queryset: QuerySet, languages: list[str]) -> QuerySet:
    """Segments with `sort_name`: the name in the first of `languages` it has, lower-cased."""
    texts = [Lower(KT(f"name__{language}")) for language in languages]
    return queryset.annotate(sort_name=Coalesce(*texts, Value(""), output_field=TextField()))


def customers_annotated(queryset: QuerySet) -> QuerySet:
    """Customers with `segment_count` (assignments) and `legal_entity_count`."""
    return queryset.annotate(
        segment_count=count_of(CustomerAssignment, "customer"),
        legal_entity_count=count_of(CustomerLegalEntity, "customer"),
    )


def legal_entities_annotated(queryset: QuerySet) -> QuerySet:
    """Legal entities with `customer_count`."""
    return queryset.annotate(customer_count=count_of(CustomerLegalEntity, "legal_entity"))


def rules_annotated(queryset: QuerySet) -> QuerySet:
    """Rules with `member_count`: their segment's customer assignments (manual and rule-made)."""
    return queryset.annotate(
        member_count=count_of(CustomerAssignment, "segment", outer="segment_id")
    )


def groups_annotated(queryset: QuerySet) -> QuerySet:
    """Groups with `member_count` and `segment_count` (assignments), tenant and legal entity joined."""
    return queryset.select_related("tenant", "legal_entity").annotate(
        member_count=count_of(GroupMember, "group"),
        segment_count=count_of(GroupAssignment, "group"),
    )


def products_annotated(queryset: QuerySet) -> QuerySet:
    """Products with `category_count` and `segment_count`."""
    return queryset.annotate(
        category_count=count_of(ProductCategory, "product"),
        segment_count=count_of(ItemAssignment, "product"),
    )


def categories_annotated(queryset: QuerySet) -> QuerySet:
    """Categories with `product_count` (directly in it), `child_count` and `segment_count`."""
    return queryset.annotate(
        product_count=count_of(ProductCategory, "category"),
        child_count=count_of(Category, "parent"),
        segment_count=count_of(ItemAssignment, "category"),
    )


def category_ancestors(category_ids: list[int]) -> dict[int, tuple[int | None, dict, str]]:
    """Every category on the paths from `category_ids` to their roots: id → (parent, name, code).

    One recursive query whatever the depth; UNION (not UNION ALL) stops at a cycle. The
    categories may be of several tenants (an admin page of every tenant's): each walk stays
    in its category's tenant, so a parent link into another tenant (bad data) ends it.
    """
    if not category_ids:
        return {}
    table = connection.ops.quote_name(Category._meta.db_table)
    placeholders = ", ".join(["%s"] * len(category_ids))
    sql = (
        f"WITH RECURSIVE path(id, parent_id, tenant_id) AS ("
        f" SELECT id, parent_id, tenant_id FROM {table} WHERE id IN ({placeholders})"
        f" UNION"
        f" SELECT c.id, c.parent_id, c.tenant_id FROM {table} c"
        f" JOIN path p ON c.id = p.parent_id AND c.tenant_id = p.tenant_id"
        f") SELECT c.id, c.parent_id, c.name, c.code, c.external_id"
        f" FROM {table} c JOIN path p ON c.id = p.id AND c.tenant_id = p.tenant_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(category_ids))
        rows = cursor.fetchall()
    return {row[0]: (row[1], _json(row[2]), row[3] or row[4]) for row in rows}


def _json(value) -> dict:
    # Raw cursors return JSON as text on some backends and decoded on others.
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}
