"""Category trees for a customer: assigned categories, their subtrees, and the way to the root.

The categories assigned to a set of segments are the *segment-assigned* ones; each comes
with all its descendants (also segment-assigned) and with its ancestors up to a root
(not segment-assigned unless they are themselves, or sit under one that is). The result
is a forest of `CategoryTreeNode`, children ordered by `position`, then id.

One query fetches every category needed: a recursive CTE walks down from the assigned
categories and up to the roots, and flags which rows are segment-assigned. `UNION` (not
`UNION ALL`) in the recursion keeps a cycle in bad parent data from looping forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from segments.choices import ItemType
from segments.models import Category, ItemAssignment, Segment
from segmentservice.db import prepared_cursor
from segmentservice.fields import json_column
from segmentservice.routers import read_connection
from tenants.models import Tenant
from tenants.selectors import tenant_rows


@dataclass(slots=True)
class CategoryRow:
    """The columns of a category a tree shows (a `Category` costs ten times more to build)."""

    pk: int
    external_id: str
    code: str
    name: Any
    description: Any
    slug: Any
    ecn: Any
    parent_id: int | None
    position: int
    published: bool
    valid_from: datetime | None
    valid_to: datetime | None


# The row's columns, in `CategoryRow`'s order; the JSON ones are decoded once, here.
_COLUMNS = (
    "id, external_id, code, name, description, slug, ecn, parent_id, position, published, "
    "valid_from, valid_to"
)


@dataclass
class CategoryTreeNode:
    """A category in a customer's tree, with its children in order."""

    category: CategoryRow
    is_segment_assigned: bool
    parent_external_id: str | None = None
    subcategories: list[CategoryTreeNode] = field(default_factory=list)


def category_trees(*, tenant: Tenant, segments: QuerySet[Segment]) -> list[CategoryTreeNode]:
    """The category forest for the categories assigned to `segments` (one query)."""
    segment_ids = tenant_rows(segments, tenant=tenant).values("id")
    assigned = (
        ItemAssignment.objects.filter(
            tenant=tenant, type=ItemType.CATEGORY, segment__in=segment_ids
        )
        .order_by()
        .values("category_id")
    )
    try:
        assigned_sql, assigned_params = assigned.query.sql_with_params()
    except EmptyResultSet:  # a customer without effective segments
        return []
    table = Category._meta.db_table
    if connection.vendor == "postgresql":
        # Each step of the walks is a LATERAL subquery fenced with OFFSET 0, so PostgreSQL
        # looks children up by (tenant, parent) and parents by id, touching only the rows
        # of the trees; joined plainly, it hashes the whole category table at every step.
        step_down = f"""SELECT child.id FROM below b CROSS JOIN LATERAL (
              SELECT c.id FROM {table} c
              WHERE c.tenant_id = %s AND c.parent_id = b.id OFFSET 0) child"""
        step_up = f"""SELECT up.id, up.parent_id FROM above a CROSS JOIN LATERAL (
              SELECT c.id, c.parent_id FROM {table} c
              WHERE c.tenant_id = %s AND c.id = a.parent_id OFFSET 0) up"""
        rows_of_needed = f"""CROSS JOIN LATERAL (
              SELECT * FROM {table} c WHERE c.tenant_id = %s AND c.id = needed.id OFFSET 0) c"""
    else:
        step_down = f"""SELECT c.id FROM {table} c JOIN below b ON c.parent_id = b.id
            WHERE c.tenant_id = %s"""
        step_up = f"""SELECT c.id, c.parent_id FROM {table} c JOIN above a ON c.id = a.parent_id
            WHERE c.tenant_id = %s"""
        rows_of_needed = f"JOIN {table} c ON c.id = needed.id AND c.tenant_id = %s"
    sql = f"""
        WITH RECURSIVE
          assigned(id) AS ({assigned_sql}),
          below(id) AS (
            SELECT id FROM assigned
            UNION
            {step_down}
          ),
          above(id, parent_id) AS (
            SELECT c.id, c.parent_id FROM {table} c
            WHERE c.tenant_id = %s AND c.id IN (SELECT id FROM assigned)
            UNION
            {step_up}
          )
        SELECT {", ".join(f"c.{column}" for column in _COLUMNS.split(", "))},
               CASE WHEN EXISTS (SELECT 1 FROM below b WHERE b.id = c.id)
                    THEN 1 ELSE 0 END AS in_subtree
        FROM (SELECT id FROM below UNION SELECT id FROM above) needed
        {rows_of_needed}
    """  # Only the table name is interpolated; every value is a parameter.
    params = [*assigned_params, tenant.pk, tenant.pk, tenant.pk, tenant.pk]
    # A replica serves it inside a web request (segmentservice/routers.py).
    with prepared_cursor(read_connection(ItemAssignment)) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _forest(rows)


def _instant(value: Any) -> datetime | None:
    """A timestamp column as an aware datetime (SQLite hands back text)."""
    if value is None or isinstance(value, datetime):
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)


def _forest(rows: list[tuple]) -> list[CategoryTreeNode]:
    """Link rows into trees; a row whose parent is not among them is a root."""
    loads = json_column
    nodes = {}
    for pk, ext, code, name, desc, slug, ecn, parent, pos, pub, vfrom, vto, below in rows:
        row = CategoryRow(
            pk=pk,
            external_id=ext,
            code=code,
            name=loads(name),
            description=loads(desc),
            slug=loads(slug),
            ecn=loads(ecn),
            parent_id=parent,
            position=pos,
            published=bool(pub),
            valid_from=_instant(vfrom),
            valid_to=_instant(vto),
        )
        nodes[pk] = CategoryTreeNode(category=row, is_segment_assigned=bool(below))
    roots: list[CategoryTreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id)
        if parent is None:
            roots.append(node)
        else:
            node.parent_external_id = parent.category.external_id
            parent.subcategories.append(node)
    for node in nodes.values():
        node.subcategories.sort(key=_order)
    roots.sort(key=_order)
    return roots


def _order(node: CategoryTreeNode) -> tuple[int, str]:
    return node.category.position, node.category.external_id
