"""Noting that a transaction changes what a tenant's API shows (its change counter).

Every transaction that records an event is noted by the database itself (a trigger on the
event table, migration 0011); a write that records no event — the directory: customers,
legal entities, products, categories and their memberships — calls `changes_note` inside
its transaction. The counter (`segments.models.ChangeCounter`) moves on when the
transaction commits; `segments.selectors.changes` reads it for ETags.
"""

from __future__ import annotations

from django.db import connection

from tenants.models import Tenant

_NOTE = {
    # One row per (tenant, transaction); its deferred trigger bumps the counter at COMMIT.
    "postgresql": (
        "INSERT INTO segments_changemark AS m (tenant_id, xact_id, segments) "
        "VALUES (%s, pg_current_xact_id()::text::bigint, %s) "
        "ON CONFLICT (tenant_id, xact_id) DO UPDATE SET segments = m.segments OR EXCLUDED.segments"
    ),
    # Writers take turns: its trigger bumps the counter at once.
    "sqlite": "INSERT INTO segments_changemark (tenant_id, xact_id, segments) VALUES (%s, 0, %s)",
}


def changes_note(*, tenant: Tenant, segments: bool = False) -> None:
    """Note that the running transaction changes the tenant's data (`segments`: its
    segments' status or validity, whose boundaries the counter keeps)."""
    with connection.cursor() as cursor:
        cursor.execute(_NOTE[connection.vendor], [tenant.pk, segments])
