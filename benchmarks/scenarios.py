"""The hot paths, with inputs picked from the generated data (deterministically)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

import psycopg

from benchmarks.client import Call
from benchmarks.server import MANAGE, READ, READ_OWN, TENANT, token

BASE = f"/customer-segment/{TENANT}"
# A B2C customer whose five segments mix sites, statuses and validity windows.
CUSTOMER = "c0000001"


@dataclass(frozen=True)
class Scenario:
    """A named hot path: the request, its expected status and how often to send it."""

    name: str
    label: str
    call: Call
    expect: int = 200
    write: bool = False
    # Sent with If-None-Match: the ETag of its first answer (a storefront revalidating).
    revalidate: bool = False


def _effective_main_segments(conn: psycopg.Connection, limit: int) -> list[str]:
    rows = conn.execute(
        """
        SELECT s.external_id FROM segments_segment s
        WHERE s.tenant_id = %s AND s.site_code = 'main' AND s.status = 'ACTIVE'
          AND (s.valid_from IS NULL OR s.valid_from <= now())
          AND (s.valid_to IS NULL OR s.valid_to > now())
          AND EXISTS (SELECT 1 FROM segments_itemassignment i
                      WHERE i.segment_id = s.id AND i.type = 'CATEGORY')
        ORDER BY s.id LIMIT %s
        """,
        (TENANT, limit),
    ).fetchall()
    return [r[0] for r in rows]


def _match_items(conn: psycopg.Connection, segment_ids: list[str], count: int) -> list[str]:
    """Half products the segments hold (directly or by category), half products they do not."""
    direct = conn.execute(
        """
        SELECT p.external_id FROM segments_itemassignment i
        JOIN segments_segment s ON s.id = i.segment_id
        JOIN segments_product p ON p.id = i.product_id
        WHERE i.tenant_id = %s AND s.external_id = ANY(%s) ORDER BY p.id LIMIT %s
        """,
        (TENANT, segment_ids, count // 4),
    ).fetchall()
    via_category = conn.execute(
        """
        SELECT p.external_id FROM segments_itemassignment i
        JOIN segments_segment s ON s.id = i.segment_id
        JOIN segments_category c ON c.parent_id = i.category_id
        JOIN segments_category leaf ON leaf.parent_id = c.id
        JOIN segments_productcategory pc ON pc.category_id = leaf.id
        JOIN segments_product p ON p.id = pc.product_id
        WHERE i.tenant_id = %s AND s.external_id = ANY(%s) ORDER BY p.id LIMIT %s
        """,
        (TENANT, segment_ids, count // 4),
    ).fetchall()
    chosen = list(dict.fromkeys(r[0] for r in direct + via_category))
    others = conn.execute(
        "SELECT external_id FROM segments_product WHERE tenant_id = %s "
        "AND NOT (external_id = ANY(%s)) ORDER BY id DESC LIMIT %s",
        (TENANT, chosen, count - len(chosen)),
    ).fetchall()
    return chosen + [r[0] for r in others]


def scenarios_build(size: str, conn: psycopg.Connection, *, tenant: str = TENANT) -> list[Scenario]:
    """Every hot path the benchmark measures, for the data in `conn`; on another `tenant`
    (a copy of the benchmark tenant's data, see `benchmarks.fresh`), its reads only, named
    `<name>--<tenant>`."""
    read = token(size, READ, tenant=tenant)
    manage = token(size, MANAGE, tenant=tenant)
    own = token(size, READ_OWN, customer=CUSTOMER, tenant=tenant)
    base = f"/customer-segment/{tenant}"
    segments = _effective_main_segments(conn, 20)
    items = _match_items(conn, segments, 200)
    name_q = quote('name.en:"Gold customers 70"')
    mixin_q = quote("mixins.segmentAttributes.membershipStatus:GOLD")
    bulk_segments = [
        {
            "id": f"bulk{i:04d}",
            "name": {"en": f"Bulk segment {i}", "de": f"Sammelsegment {i}"},
            "description": {"en": "Upserted by the benchmark"},
            "status": "ACTIVE",
            "siteCode": "main",
            "mixins": {"segmentAttributes": {"membershipStatus": "BULK", "priority": i % 10}},
        }
        for i in range(200)
    ]
    bulk_assignments = [
        {"customerId": f"c{c:07d}", "mixins": {"source": {"campaign": "bench"}}} for c in range(200)
    ]
    scenarios = [
        # Not a hot path: what any request costs here (HTTP, gunicorn, Django, one query).
        Scenario("baseline", "baseline: GET /healthz (one query)", Call("GET", "/healthz", read)),
        Scenario("get_segment", "get one segment", Call("GET", f"{base}/segments/seg000070", read)),
        Scenario(
            "list_q_name",
            "list, q on a localized name",
            Call("GET", f"{base}/segments?q={name_q}", read),
        ),
        Scenario(
            "list_q_mixin",
            "list, q on a mixin (page of 60)",
            Call("GET", f"{base}/segments?q={mixin_q}&pageSize=60", read),
        ),
        Scenario(
            "customer_segments_id",
            "customer's segments (customerId)",
            Call("GET", f"{base}/segments?customerId={CUSTOMER}", read),
        ),
        Scenario(
            "customer_segments_token",
            "customer's segments (customer token)",
            Call("GET", f"{base}/segments", own),
        ),
        Scenario(
            "segments_me",
            "the customer's own segments (/segments/me)",
            Call("GET", f"{base}/segments/me", own),
        ),
        Scenario(
            "match",
            "match, 200 items x 20 segments",
            Call(
                "POST",
                f"{base}/segments/match",
                manage,
                {"siteCode": "main", "items": [{"id": i} for i in items], "segmentIds": segments},
            ),
        ),
        Scenario(
            "customer_items",
            "items of a customer's segments",
            Call("GET", f"{base}/segments/items", own),
        ),
        Scenario(
            "category_trees",
            "category trees (customer token)",
            Call("GET", f"{base}/segments/items/category-trees", own),
        ),
        Scenario(
            "revalidate",
            "304 revalidation of the category trees (customer token)",
            Call("GET", f"{base}/segments/items/category-trees", own),
            expect=304,
            revalidate=True,
        ),
        Scenario(
            "bulk_segments",
            "bulk upsert, 200 segments",
            Call("PUT", f"{base}/segments/bulk", manage, bulk_segments),
            expect=207,
            write=True,
        ),
        Scenario(
            "bulk_assignments",
            "bulk upsert, 200 customer assignments",
            Call("PUT", f"{base}/segments/seg000070/customers/bulk", manage, bulk_assignments),
            expect=207,
            write=True,
        ),
    ]
    if tenant == TENANT:
        return scenarios
    return [
        replace(s, name=f"{s.name}--{tenant}", label=f"{s.label} [{tenant}]")
        for s in scenarios
        if not s.write and s.name != "list_q_mixin"
    ]


def page_size_probe(scenarios: list[Scenario]) -> list[Call]:
    """The mixin list at two page sizes, to show queries per request do not follow page size."""
    found = [s.call for s in scenarios if s.name == "list_q_mixin"]
    if not found:
        return []
    base = found[0]
    return [
        Call(base.method, base.path.replace("pageSize=60", f"pageSize={n}"), base.token)
        for n in (10, 500)
    ]
