"""GIN indexes for `q` on a segment's localized name and on its mixins (PostgreSQL only).

`name.en:Gold` and `mixins.a.b:GOLD` compile to `@>` containment on PostgreSQL (see
segments/lookups.py), which these `jsonb_path_ops` indexes serve. They start with the
tenant, like every index (btree_gin lets a GIN index hold the tenant column). Other
databases get no index: they never emit containment.

`fastupdate = off`: segments are rewritten often (bulk upserts); with GIN's pending list a
lookup that took 0.1 ms took 9.4 ms after 1,000 bulk upserts of 200 segments, scanning
the list until a vacuum merged it. Without it each write updates the index in place.
"""

from django.db import migrations

INDEXES = {
    "segment_tenant_name_gin": "name",
    "segment_tenant_mixins_gin": "mixins",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON segments_segment "
            f"USING gin (tenant_id, {column} jsonb_path_ops) WITH (fastupdate = off)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("segments", "0002_webhook_endpoints")]

    operations = [migrations.RunPython(create, drop)]
