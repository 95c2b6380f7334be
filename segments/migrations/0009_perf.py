"""Each tenant's change counter, kept by the database (conditional requests, SPEC §7).

`segments_changecounter` holds one row per tenant: its generation and the next segment
validity boundaries. Every INSERT into the event table notes its transaction as a change of
the tenant's; `segments.services.changes.changes_note` does the same for directory writes.

PostgreSQL: the note is a row of `segments_changemark` (tenant, transaction), written with
no lock anyone else waits for; a deferred constraint trigger on it bumps the counter row at
COMMIT. So concurrent writers of one tenant wait for each other only while they commit, not
for the whole of each other's transactions, as an UPDATE of the counter inside each
transaction would make them. The bump takes a fresh snapshot after the counter row's lock,
so the validity boundaries it reads include every segment committed before it.
SQLite: writers take turns on the whole database, so the same mark bumps the counter at
once (a trigger on `segments_changemark`).
"""

from django.db import migrations, models
import django.db.models.deletion

SEGMENT_EVENT = "customer-segment.segment-%"
KEPT = 64  # segments.models.BOUNDARIES_KEPT

POSTGRESQL = f"""
CREATE TABLE segments_changemark (
    tenant_id varchar(16) NOT NULL,
    xact_id bigint NOT NULL,
    segments boolean NOT NULL,
    PRIMARY KEY (tenant_id, xact_id)
);

CREATE FUNCTION segments_changes_of_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO segments_changemark AS m (tenant_id, xact_id, segments)
    SELECT tenant_id, pg_current_xact_id()::text::bigint, bool_or(type LIKE '{SEGMENT_EVENT}')
    FROM added GROUP BY tenant_id
    ON CONFLICT (tenant_id, xact_id) DO UPDATE SET segments = m.segments OR EXCLUDED.segments;
    RETURN NULL;
END $$;

CREATE TRIGGER segments_event_changes AFTER INSERT ON segments_event
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION segments_changes_of_events();

CREATE FUNCTION segments_changes_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    segments_changed boolean;
    created boolean;
    bounds jsonb;
    complete boolean;
BEGIN
    DELETE FROM segments_changemark WHERE tenant_id = NEW.tenant_id AND xact_id = NEW.xact_id
        RETURNING segments INTO segments_changed;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM tenants_tenant WHERE name = NEW.tenant_id) THEN
        RETURN NULL;  -- noted twice, or the tenant is deleted in this transaction
    END IF;
    INSERT INTO segments_changecounter AS c (tenant_id, generation, boundaries, boundaries_complete)
    VALUES (NEW.tenant_id, 1, '[]', true)
    ON CONFLICT (tenant_id) DO UPDATE SET generation = c.generation + 1
    RETURNING (xmax = 0) INTO created;
    IF segments_changed OR created THEN
        -- A new statement, so a new snapshot: it sees every commit before the lock above.
        -- Five minutes back, so a web node whose clock lags the database's misses none.
        SELECT coalesce(jsonb_agg(extract(epoch FROM b.at) ORDER BY b.at), '[]'::jsonb),
               count(*) < {KEPT}
        INTO bounds, complete
        FROM (
            SELECT u.at FROM (
                SELECT valid_from AS at FROM segments_segment
                WHERE tenant_id = NEW.tenant_id AND status = 'ACTIVE'
                  AND valid_from > statement_timestamp() - interval '5 minutes'
                UNION
                SELECT valid_to FROM segments_segment
                WHERE tenant_id = NEW.tenant_id AND status = 'ACTIVE'
                  AND valid_to > statement_timestamp() - interval '5 minutes'
            ) u ORDER BY u.at LIMIT {KEPT}
        ) b;
        UPDATE segments_changecounter SET boundaries = bounds, boundaries_complete = complete
        WHERE tenant_id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER segments_changemark_commit AFTER INSERT ON segments_changemark
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION segments_changes_commit();
"""

# No statistics on the tenant column of the segments tables. Gathered, they describe the
# tenants there were at the last ANALYZE: a tenant loaded since is estimated at a row or
# two, and PostgreSQL plans its reads as if it had none (walking every row of the tenant
# where an index on (tenant, customer) would find five). Without them, every tenant is
# estimated as a small share of the table and the other columns' statistics choose the
# index, however fresh the tenant. Re-stating the column's own type drops the statistics
# gathered so far (the table's owner may; pg_statistic is the superuser's): no rewrite,
# the indexes are kept, a moment's exclusive lock.
TENANT_STATISTICS_OFF = """
DO $$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT c.relname, format_type(a.atttypid, a.atttypmod) AS type
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE a.attname = 'tenant_id' AND NOT a.attisdropped AND c.relkind = 'r'
          AND c.relnamespace = current_schema()::regnamespace
          AND c.relname LIKE 'segments\\_%'
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ALTER COLUMN tenant_id SET STATISTICS 0, '
            'ALTER COLUMN tenant_id TYPE %s',
            target.relname, target.type
        );
    END LOOP;
END $$;
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS segments_event_changes ON segments_event;
DROP TABLE IF EXISTS segments_changemark;
DROP FUNCTION IF EXISTS segments_changes_commit();
DROP FUNCTION IF EXISTS segments_changes_of_events();
"""

# The boundaries of an ACTIVE segment's validity from five minutes ago on, in epoch seconds.
SQLITE_BOUNDARIES = f"""
SELECT coalesce(json_group_array(e), '[]'), count(*) < {KEPT} FROM (
    SELECT e FROM (
        SELECT (julianday(valid_from) - 2440587.5) * 86400.0 AS e FROM segments_segment
        WHERE tenant_id = NEW.tenant_id AND status = 'ACTIVE'
          AND julianday(valid_from) > julianday('now') - 5.0 / 1440
        UNION
        SELECT (julianday(valid_to) - 2440587.5) * 86400.0 FROM segments_segment
        WHERE tenant_id = NEW.tenant_id AND status = 'ACTIVE'
          AND julianday(valid_to) > julianday('now') - 5.0 / 1440
    ) ORDER BY e LIMIT {KEPT}
)"""

SQLITE = [
    """CREATE TABLE segments_changemark (
        tenant_id varchar(16) NOT NULL, xact_id bigint NOT NULL, segments bool NOT NULL
    )""",
    f"""CREATE TRIGGER segments_changemark_commit AFTER INSERT ON segments_changemark
    BEGIN
        INSERT INTO segments_changecounter (tenant_id, generation, boundaries, boundaries_complete)
        SELECT NEW.tenant_id, 0, '[]', 1
        WHERE EXISTS (SELECT 1 FROM tenants_tenant WHERE name = NEW.tenant_id)
          AND NOT EXISTS (SELECT 1 FROM segments_changecounter WHERE tenant_id = NEW.tenant_id);
        UPDATE segments_changecounter SET generation = generation + 1
        WHERE tenant_id = NEW.tenant_id;
        UPDATE segments_changecounter SET (boundaries, boundaries_complete) = ({SQLITE_BOUNDARIES})
        WHERE tenant_id = NEW.tenant_id AND (NEW.segments OR generation = 1);
        DELETE FROM segments_changemark WHERE rowid = NEW.rowid;
    END""",
    f"""CREATE TRIGGER segments_event_changes AFTER INSERT ON segments_event
    BEGIN
        INSERT INTO segments_changemark (tenant_id, xact_id, segments)
        VALUES (NEW.tenant_id, 0, NEW.type LIKE '{SEGMENT_EVENT}');
    END""",
]


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)  # no placeholders: LIKE '...%'
        schema_editor.execute(TENANT_STATISTICS_OFF, params=None)
        xact = "pg_current_xact_id()::text::bigint"
    elif connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)
        xact = "0"
    else:
        return
    # Every tenant there is starts with a counter and its boundaries.
    schema_editor.execute(
        "INSERT INTO segments_changemark (tenant_id, xact_id, segments) "
        f"SELECT name, {xact}, true FROM tenants_tenant"
    )


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)
    elif connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS segments_event_changes")
        schema_editor.execute("DROP TABLE IF EXISTS segments_changemark")


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0008_groups"),
        ("tenants", "0003_tenant_first_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeCounter",
            fields=[
                (
                    "tenant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tenants.tenant",
                    ),
                ),
                ("generation", models.BigIntegerField(default=0)),
                ("boundaries", models.JSONField(default=list)),
                ("boundaries_complete", models.BooleanField(default=True)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
