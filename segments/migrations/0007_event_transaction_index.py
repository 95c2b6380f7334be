"""The index delivery reads events by (tenant, transaction), built without locking the table."""

from django.db import migrations, models

from segmentservice.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("segments", "0006_event_actor"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(fields=["tenant", "transaction_id"], name="event_tenant_txn_idx"),
        ),
    ]
