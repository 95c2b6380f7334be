"""Plans of the customer-scoped reads on PostgreSQL: right for a tenant never analyzed.

A tenant loaded a moment ago sits beside an older, analyzed one. Its reads must plan from
the customer (its few segments first), not from estimates that have never seen its rows.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.devdata.generate import GenerateSizes, data_generate
from tenants.services import tenant_create
from tests.conftest import READ_OWN, postgres_only

pytestmark = [*postgres_only("PostgreSQL plans"), pytest.mark.django_db]

CUSTOMER = "c0000001"

# A copy of tenant acme's customers, segments and customer assignments as tenant `fresh`,
# with plain INSERTs: nothing analyzes them.
COPY = [
    """INSERT INTO segments_customer (tenant_id, external_id, first_name, last_name, email,
           attributes)
       SELECT 'fresh', external_id, first_name, last_name, email, attributes
       FROM segments_customer WHERE tenant_id = 'acme'""",
    """INSERT INTO segments_segment (tenant_id, external_id, name, description, valid_from,
           valid_to, status, site_code, mixins, metadata_mixins, version, created_at, modified_at)
       SELECT 'fresh', external_id, name, description, valid_from, valid_to, status, site_code,
              mixins, metadata_mixins, version, created_at, modified_at
       FROM segments_segment WHERE tenant_id = 'acme'""",
    """INSERT INTO segments_customerassignment (tenant_id, segment_id, customer_id,
           assignment_type, mixins, metadata_mixins, version, created_at, modified_at)
       SELECT 'fresh', s2.id, c2.id, a.assignment_type, a.mixins, a.metadata_mixins, a.version,
              a.created_at, a.modified_at
       FROM segments_customerassignment a
       JOIN segments_segment s ON s.id = a.segment_id
       JOIN segments_segment s2 ON s2.tenant_id = 'fresh' AND s2.external_id = s.external_id
       JOIN segments_customer c ON c.id = a.customer_id
       JOIN segments_customer c2 ON c2.tenant_id = 'fresh' AND c2.external_id = c.external_id
       WHERE a.tenant_id = 'acme' AND a.legal_entity_id IS NULL""",
]


def indexes_used(plan: dict, table: str) -> set[str]:
    """The indexes the plan scans `table` with."""
    found = set()
    if plan.get("Relation Name") == table and "Index Name" in plan:
        found.add(plan["Index Name"])
    for child in plan.get("Plans", []):
        found |= indexes_used(child, table)
    return found


def test_a_fresh_tenant_finds_the_customers_segments_through_the_customer(tenant, make_client):
    data_generate(tenant=tenant, sizes=GenerateSizes())  # analyzes what it filled
    tenant_create(name="fresh", default_language="en", languages=["en", "de", "fr"])
    with connection.cursor() as cursor:
        for sql in COPY:
            cursor.execute(sql)
    for name in ("acme", "fresh"):
        client = make_client(name, READ_OWN, customer=CUSTOMER)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/customer-segment/{name}/segments").status_code == 200
        ids_sql = queries.captured_queries[1]["sql"]
        assert "segments_customerassignment" in ids_sql
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + ids_sql)
            plan = cursor.fetchone()[0]
        plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
        assert indexes_used(plan, "segments_customerassignment") == {
            "custassign_tenant_cust_idx"
        }, name


def test_no_segments_table_keeps_statistics_on_its_tenant_column():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, a.attstattarget FROM pg_class c
               JOIN pg_attribute a ON a.attrelid = c.oid
               WHERE a.attname = 'tenant_id' AND c.relkind = 'r'
                 AND c.relname LIKE 'segments\\_%'"""
        )
        targets = dict(cursor.fetchall())
    assert "segments_customerassignment" in targets
    assert {table for table, target in targets.items() if target != 0} == set()
