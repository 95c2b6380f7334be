"""The index of a segment's history: the change events by (tenant, resource id, id).

The admin's history page reads the events whose resource id is the segment's or starts
with it and "/" (pattern ops serve that prefix on PostgreSQL whatever the collation), and
for each the event before it of the same resource. Built concurrently: the event table is
the largest and is written by every change.
"""

from django.db import migrations, models

from segmentservice.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("segments", "0010_rules"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                fields=["tenant", "resource_id", "id"],
                name="event_tenant_resource_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "int8_ops"],
            ),
        ),
    ]
