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

from django.db.models import QuerySet

from segments.choices import ItemType
from segments.models import Category, ItemAssignment, Segment
from tenants.models import Tenant


@dataclass
class CategoryTreeNode:
    """A category in a customer's tree, with its children in order."""

    category: Category
    is_segment_assigned: bool
    parent_external_id: str | None = None
    subcategories: list[CategoryTreeNode] = field(default_factory=list)


def category_trees(*, tenant: Tenant, segments: QuerySet[Segment]) -> list[CategoryTreeNode]:
    """The category forest for the categories assigned to `segments` (one query)."""
    assigned = (
        ItemAssignment.objects.filter(
            tenant=tenant, type=ItemType.CATEGORY, segment__in=segments.values("id")
        )
        .order_by()
        .values("category_id")
    )
    assigned_sql, assigned_params = assigned.query.sql_with_params()
    table = Category._meta.db_table
    sql = f"""
        WITH RECURSIVE
          assigned(id) AS ({assigned_sql}),
          below(id) AS (
            SELECT id FROM assigned
            UNION
            SELECT c.id FROM {table} c JOIN below b ON c.parent_id = b.id
            WHERE c.tenant_id = %s
          ),
          above(id, parent_id) AS (
            SELECT c.id, c.parent_id FROM {table} c
            WHERE c.tenant_id = %s AND c.id IN (SELECT id FROM assigned)
            UNION
            SELECT c.id, c.parent_id FROM {table} c JOIN above a ON c.id = a.parent_id
            WHERE c.tenant_id = %s
          )
        SELECT c.*, CASE WHEN b.id IS NULL THEN 0 ELSE 1 END AS in_subtree
        FROM (SELECT id FROM below UNION SELECT id FROM above) needed
        JOIN {table} c ON c.id = needed.id
        LEFT JOIN below b ON b.id = c.id
        WHERE c.tenant_id = %s
    """  # Only the table name is interpolated; every value is a parameter.
    params = [*assigned_params, tenant.pk, tenant.pk, tenant.pk, tenant.pk]
    rows = list(Category.objects.raw(sql, params))
    return _forest(rows)


def _forest(rows: list[Category]) -> list[CategoryTreeNode]:
    """Link rows into trees; a row whose parent is not among them is a root."""
    nodes = {
        row.pk: CategoryTreeNode(category=row, is_segment_assigned=bool(row.in_subtree))
        for row in rows
    }
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
