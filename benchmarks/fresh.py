"""A second tenant loaded through the bulk API a moment before it is read, never analyzed.

A multi-tenant table always has a big new tenant beside old ones: the benchmark tenant
(`generate_data`, analyzed) is the old one, and `fresh_tenant_load` copies its data into
tenant `fresh` the way a new customer of the service would load it: the directory with
`import_directory` (which analyzes the directory tables it filled), then every segment,
customer assignment and item assignment through `PUT .../bulk` requests of 200 over HTTP.
Nothing analyzes the segment and assignment tables afterwards, so the planner knows only
the old tenant's statistics when the hot paths run on the new one.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psycopg

from benchmarks.client import Call, send
from benchmarks.server import MANAGE, TENANT, manage, token

FRESH = "fresh"
CHUNK = 200
ANALYZED_LATE = (
    "segments_segment",
    "segments_customerassignment",
    "segments_itemassignment",
    "segments_event",
)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def directory_document(conn: psycopg.Connection, source: str = TENANT) -> dict:
    """The source tenant's directory as an `import_directory` JSON document."""
    entities = conn.execute(
        "SELECT id, external_id, name FROM segments_legalentity WHERE tenant_id = %s", (source,)
    ).fetchall()
    entity_ids = {pk: ext for pk, ext, _ in entities}
    memberships = defaultdict(list)
    for customer, entity in conn.execute(
        "SELECT customer_id, legal_entity_id FROM segments_customerlegalentity "
        "WHERE tenant_id = %s",
        (source,),
    ):
        memberships[customer].append(entity_ids[entity])
    customers = [
        {"id": ext, "firstName": first, "lastName": last, "legalEntities": memberships[pk]}
        for pk, ext, first, last in conn.execute(
            "SELECT id, external_id, first_name, last_name FROM segments_customer "
            "WHERE tenant_id = %s ORDER BY id",
            (source,),
        )
    ]
    categories = conn.execute(
        "SELECT c.id, c.external_id, c.code, c.name, p.external_id, c.position "
        "FROM segments_category c LEFT JOIN segments_category p ON p.id = c.parent_id "
        "WHERE c.tenant_id = %s ORDER BY c.id",
        (source,),
    ).fetchall()
    category_ids = {pk: ext for pk, ext, *_ in categories}
    in_category = defaultdict(list)
    for product, category in conn.execute(
        "SELECT product_id, category_id FROM segments_productcategory WHERE tenant_id = %s",
        (source,),
    ):
        in_category[product].append(category_ids[category])
    products = [
        {"id": ext, "code": code, "name": name, "categories": in_category[pk]}
        for pk, ext, code, name in conn.execute(
            "SELECT id, external_id, code, name FROM segments_product WHERE tenant_id = %s "
            "ORDER BY id",
            (source,),
        )
    ]
    return {
        "legalEntities": [{"id": ext, "name": name} for _, ext, name in entities],
        "customers": customers,
        "categories": [
            {"id": ext, "code": code, "name": name, "parentId": parent, "position": position}
            for _, ext, code, name, parent, position in categories
        ],
        "products": products,
    }


def _bulk(port: int, bearer: str, path: str, elements: list) -> int:
    """PUT `elements` to a bulk path, CHUNK at a time; returns the requests sent."""
    sent = 0
    for start in range(0, len(elements), CHUNK):
        reply = send(port, Call("PUT", path, bearer, elements[start : start + CHUNK]))
        if reply.status != 207:
            raise RuntimeError(f"PUT {path}: {reply.status} {reply.body[:300]!r}")
        refused = [e for e in json.loads(reply.body) if e["code"] not in (200, 201, 204)]
        if refused:
            raise RuntimeError(f"PUT {path}: {len(refused)} refused, e.g. {refused[0]}")
        sent += 1
    return sent


def fresh_tenant_load(size: str, port: int, conn: psycopg.Connection) -> dict:
    """Create tenant `fresh` (again) and load the benchmark tenant's data into it through
    the bulk API; returns what it took."""
    started = time.perf_counter()
    # Here the new tenant is as big as the old one, so autovacuum would analyze within a
    # minute; in a table whose older tenants hold ten times its rows it would not (it waits
    # for 10% of the table to change). Off on the benchmark database's tables, so the reads
    # meet what a big new tenant meets.
    for table in ANALYZED_LATE:
        conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    manage(size, "delete_tenant", FRESH, "--yes", "--no-progress", quiet=True, check=False)
    manage(size, "create_tenant", FRESH, "--languages=en,de,fr")
    with tempfile.TemporaryDirectory(prefix="bench-fresh-") as folder:
        path = Path(folder) / "directory.json"
        path.write_text(json.dumps(directory_document(conn)))
        manage(size, "import_directory", str(path), f"--tenant={FRESH}", "--no-progress")
    bearer = token(size, MANAGE, tenant=FRESH)
    base = f"/customer-segment/{FRESH}/segments"
    segments = conn.execute(
        "SELECT id, external_id, name, description, status, site_code, valid_from, valid_to "
        "FROM segments_segment WHERE tenant_id = %s ORDER BY id",
        (TENANT,),
    ).fetchall()
    documents = []
    for _, ext, name, description, status, site, valid_from, valid_to in segments:
        document = {"id": ext, "name": name, "description": description, "status": status}
        document["siteCode"] = site
        if valid_from or valid_to:
            document["validity"] = {
                k: v for k, v in (("from", _iso(valid_from)), ("to", _iso(valid_to))) if v
            }
        documents.append(document)
    requests = _bulk(port, bearer, f"{base}/bulk", documents)
    external = {pk: ext for pk, ext, *_ in segments}
    customers = defaultdict(list)
    for segment, customer, entity in conn.execute(
        "SELECT a.segment_id, c.external_id, le.external_id FROM segments_customerassignment a "
        "JOIN segments_customer c ON c.id = a.customer_id "
        "LEFT JOIN segments_legalentity le ON le.id = a.legal_entity_id "
        "WHERE a.tenant_id = %s ORDER BY a.id",
        (TENANT,),
    ):
        element = {"customerId": customer} | ({"legalEntityId": entity} if entity else {})
        customers[segment].append(element)
    items = defaultdict(list)
    for segment, kind, product, category in conn.execute(
        "SELECT i.segment_id, i.type, p.external_id, c.external_id "
        "FROM segments_itemassignment i LEFT JOIN segments_product p ON p.id = i.product_id "
        "LEFT JOIN segments_category c ON c.id = i.category_id "
        "WHERE i.tenant_id = %s ORDER BY i.id",
        (TENANT,),
    ):
        items[(segment, kind)].append({"id": product or category})
    for segment, elements in customers.items():
        requests += _bulk(port, bearer, f"{base}/{external[segment]}/customers/bulk", elements)
    for (segment, kind), elements in items.items():
        requests += _bulk(port, bearer, f"{base}/{external[segment]}/items/{kind}/bulk", elements)
    seconds = time.perf_counter() - started
    print(
        f"[bench] fresh: loaded {len(documents)} segments and their assignments through "
        f"{requests} bulk requests in {seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return {"seconds": seconds, "bulk_requests": requests}
