"""Why products match segments: the read behind `POST /segments/match/explain` (SPEC §12).

For each product of the match body, in request order: whether it matches (as
`POST /segments/match` decides it, `segments.selectors.match`) and through what: each
effective segment of the site that holds the product itself (`PRODUCT`) or a category on
the way up from one of the product's categories (`CATEGORY`, with the category path from
the assigned category down to the product's category). A fixed number of queries whatever
the number of items: segments, products, product assignments, the category ancestry (one
recursive CTE) and the category assignments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from segments.choices import SegmentStatus
from segments.models import Category, ItemAssignment, Product, ProductCategory, Segment
from segmentservice.routers import read_connection
from tenants.models import Tenant

# Deeper than any real category tree; ends the walk on a tree with a cycle.
MAX_DEPTH = 256

_ANCESTRY_SQL = """
WITH RECURSIVE up (product_id, leaf_id, category_id, depth) AS (
    SELECT pc.product_id, pc.category_id, pc.category_id, 0 FROM {product_category} pc
    WHERE pc.tenant_id = %s AND pc.product_id IN ({products})
    UNION ALL
    SELECT up.product_id, up.leaf_id, c.parent_id, up.depth + 1 FROM up
    JOIN {category} c ON c.id = up.category_id
    WHERE c.tenant_id = %s AND c.parent_id IS NOT NULL AND up.depth < %s
)
SELECT up.product_id, up.leaf_id, up.category_id, up.depth, c.external_id FROM up
JOIN {category} c ON c.id = up.category_id
ORDER BY up.product_id, up.leaf_id, up.depth
"""


def match_explain(
    *,
    tenant: Tenant,
    site_code: str,
    product_ids: Sequence[str],
    segment_ids: Sequence[str],
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """`[{"id": "p1", "matched": true, "via": [{"segmentId", "type", "categoryPath"}]}]`."""
    wanted = list(dict.fromkeys(product_ids))
    at = at or timezone.now()
    segments = (
        dict(
            Segment.objects.filter(
                tenant=tenant,
                site_code=site_code,
                external_id__in=list(dict.fromkeys(segment_ids)),
                status=SegmentStatus.ACTIVE,
            )
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
            .values_list("pk", "external_id")
        )
        if wanted and segment_ids
        else {}
    )
    products = (
        dict(
            Product.objects.filter(tenant=tenant, external_id__in=wanted).values_list(
                "external_id", "pk"
            )
        )
        if segments
        else {}
    )
    via: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if products:
        direct = ItemAssignment.objects.filter(
            tenant=tenant, product_id__in=list(products.values()), segment_id__in=list(segments)
        ).values_list("product_id", "segment_id")
        for product_pk, segment_pk in sorted(direct, key=lambda r: (r[0], segments[r[1]])):
            via[product_pk].append(
                {"segmentId": segments[segment_pk], "type": "PRODUCT", "categoryPath": []}
            )
        _category_reasons(tenant, list(products.values()), segments, via)
    return [
        {
            "id": product_id,
            "matched": bool(via.get(products.get(product_id, 0))),
            "via": via.get(products.get(product_id, 0), []),
        }
        for product_id in wanted
    ]


def _category_reasons(
    tenant: Tenant,
    product_pks: list[int],
    segments: dict[int, str],
    via: dict[int, list[dict[str, Any]]],
) -> None:
    sql = _ANCESTRY_SQL.format(
        product_category=ProductCategory._meta.db_table,
        category=Category._meta.db_table,
        products=", ".join(["%s"] * len(product_pks)),
    )
    with read_connection(ItemAssignment).cursor() as cursor:
        cursor.execute(sql, [tenant.pk, *product_pks, tenant.pk, MAX_DEPTH])
        rows = cursor.fetchall()
    if not rows:
        return
    chains: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
    for product_pk, leaf_pk, category_pk, _depth, external_id in rows:
        chains[(product_pk, leaf_pk)].append((category_pk, external_id))
    assigned: dict[int, list[int]] = defaultdict(list)
    for category_pk, segment_pk in ItemAssignment.objects.filter(
        tenant=tenant,
        category_id__in={category_pk for chain in chains.values() for category_pk, _ in chain},
        segment_id__in=list(segments),
    ).values_list("category_id", "segment_id"):
        assigned[category_pk].append(segment_pk)
    for (product_pk, _leaf), chain in sorted(chains.items()):
        for depth, (category_pk, _) in enumerate(chain):
            for segment_pk in sorted(assigned.get(category_pk, []), key=segments.__getitem__):
                path = [external_id for _, external_id in reversed(chain[: depth + 1])]
                via[product_pk].append(
                    {"segmentId": segments[segment_pk], "type": "CATEGORY", "categoryPath": path}
                )


__all__ = ["match_explain"]
