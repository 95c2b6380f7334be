"""Index migrations that do not lock live tables, and the check that new migrations use them.

`CREATE INDEX` blocks every write to its table until the index is built: minutes for the
assignment tables at scale, with the API answering 503 meanwhile. On PostgreSQL,
`AddIndexConcurrently` here builds it with `CREATE INDEX CONCURRENTLY` (writes go on; it
cannot run in a transaction, so the migration sets `atomic = False`); on SQLite it is a
plain `AddIndex`. It also drops an invalid index of the same name first, which a build
that failed or was interrupted leaves behind, so a failed migration can be run again.

    from segmentservice.migration_operations import AddIndexConcurrently

    class Migration(migrations.Migration):
        atomic = False
        dependencies = [("segments", "0005_...")]
        operations = [
            AddIndexConcurrently(
                model_name="customerassignment",
                index=models.Index(fields=["tenant", "created_at"], name="custassign_tenant_created_idx"),
            ),
        ]

`makemigrations` writes `migrations.AddIndex`; swap it for this by hand. A field that
brings an index (a `ForeignKey`, `db_index=True`, `unique=True`) on an existing table gets
`db_index=False` in its `AddField`/`AlterField` and its index through this operation.
`lock_taking_operations` lists what breaks the rule; tests/test_migration_operations.py
runs it over every migration after those that predate the rule.
"""

from __future__ import annotations

import re

from django.contrib.postgres import operations as postgres
from django.db import migrations, models
from django.db.migrations.state import ProjectState

# Applied by existing deployments before the rule: never rewritten, never checked.
PREDATING_THE_RULE = frozenset(
    {
        ("segments", "0001_initial"),
        ("segments", "0002_webhook_endpoints"),
        ("segments", "0003_segment_json_gin_indexes"),
        ("segments", "0004_tenant_first_indexes"),
        ("tenants", "0001_initial"),
        ("tenants", "0002_staff_tenant_access"),
        ("tenants", "0003_tenant_first_indexes"),
    }
)

_CREATE_INDEX = re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)
_CONCURRENTLY = re.compile(r"\bINDEX\s+CONCURRENTLY\b", re.IGNORECASE)


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """`CREATE INDEX CONCURRENTLY` on PostgreSQL, a plain `AddIndex` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )
            return
        self._ensure_not_in_transaction(schema_editor)
        _drop_invalid_index(schema_editor, self.index.name)
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(postgres.RemoveIndexConcurrently):
    """`DROP INDEX CONCURRENTLY` on PostgreSQL, a plain `RemoveIndex` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            migrations.RemoveIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            migrations.RemoveIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )
            return
        _drop_invalid_index(schema_editor, self.name)
        super().database_backwards(app_label, schema_editor, from_state, to_state)


def _drop_invalid_index(schema_editor, name: str) -> None:
    """Drop what an interrupted `CREATE INDEX CONCURRENTLY` left: an invalid index `name`."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid) AND NOT i.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


def lock_taking_operations(migration: migrations.Migration, state: ProjectState) -> list[str]:
    """What in `migration` would build or drop an index on a table that exists already
    (in `state`, the project before it) while holding writes; empty when nothing would.

    Also a concurrent operation in an atomic migration, which PostgreSQL refuses.
    """
    problems: list[str] = []
    label = f"{migration.app_label}.{migration.name}"
    existing = set(state.models)
    created: set[tuple[str, str]] = set()

    def live(model_name: str) -> bool:
        key = (migration.app_label, model_name.lower())
        return key in existing and key not in created

    for operation in _flattened(migration.operations):
        concurrent = isinstance(
            operation, postgres.AddIndexConcurrently | postgres.RemoveIndexConcurrently
        ) or (isinstance(operation, migrations.RunSQL) and _CONCURRENTLY.search(_sql(operation)))
        if concurrent and migration.atomic:
            problems.append(f"{label}: {operation.describe()} needs `atomic = False`.")
        if isinstance(operation, migrations.CreateModel):
            created.add((migration.app_label, operation.name_lower))
        elif isinstance(operation, migrations.AddIndex) and not concurrent:
            if live(operation.model_name):
                problems.append(
                    f"{label}: AddIndex {operation.index.name} on the existing table "
                    f"{operation.model_name} locks it; use AddIndexConcurrently."
                )
        elif isinstance(operation, migrations.RemoveIndex) and not concurrent:
            if live(operation.model_name):
                problems.append(
                    f"{label}: RemoveIndex {operation.name} on the existing table "
                    f"{operation.model_name} waits for and blocks every query on it; use "
                    "RemoveIndexConcurrently."
                )
        elif isinstance(operation, migrations.AddConstraint):
            constraint = operation.constraint
            if isinstance(constraint, models.UniqueConstraint) and live(operation.model_name):
                problems.append(
                    f"{label}: AddConstraint {constraint.name} builds a unique index on the "
                    f"existing table {operation.model_name} with writes locked; build it with "
                    "CREATE UNIQUE INDEX CONCURRENTLY (RunSQL in SeparateDatabaseAndState)."
                )
        elif isinstance(operation, migrations.AddField | migrations.AlterField):
            if live(operation.model_name) and _field_gains_index(operation, state, migration):
                problems.append(
                    f"{label}: {type(operation).__name__} {operation.model_name}."
                    f"{operation.name} builds an index on an existing table with writes "
                    "locked; give it db_index=False and add the index with "
                    "AddIndexConcurrently."
                )
        elif isinstance(operation, migrations.RunSQL) and _CREATE_INDEX.search(_sql(operation)):
            problems.append(
                f"{label}: RunSQL creates an index without CONCURRENTLY: {_sql(operation)[:80]}"
            )
    return problems


def _flattened(operations):
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _flattened(operation.database_operations)
            for state_operation in operation.state_operations:
                if isinstance(state_operation, migrations.CreateModel):
                    yield state_operation
        else:
            yield operation


def _sql(operation: migrations.RunSQL) -> str:
    sql = operation.sql
    if isinstance(sql, list | tuple):
        sql = " ".join(item if isinstance(item, str) else item[0] for item in sql)
    return str(sql)


def _indexed(field: models.Field) -> bool:
    return bool(field.db_index or field.unique) and not field.primary_key


def _field_gains_index(operation, state: ProjectState, migration) -> bool:
    if not _indexed(operation.field):
        return False
    if isinstance(operation, migrations.AddField):
        return True
    model_state = state.models[migration.app_label, operation.model_name_lower]
    before = model_state.fields.get(operation.name)
    return before is None or not _indexed(before)
