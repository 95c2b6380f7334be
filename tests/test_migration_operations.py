"""Index migrations on live tables: the concurrent operations, and the rule that new
migrations use them (segmentservice/migration_operations.py)."""

from __future__ import annotations

import pytest
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.test.utils import CaptureQueriesContext

from segmentservice.migration_operations import (
    PREDATING_THE_RULE,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
    lock_taking_operations,
)

OUR_APPS = ("segments", "tenants")
INDEX = models.Index(fields=["tenant", "created_at"], name="event_tenant_created_idx")
ON_POSTGRES = connection.vendor == "postgresql"


def loader() -> MigrationLoader:
    return MigrationLoader(None, ignore_no_migrations=True)


def state_after_every_migration() -> ProjectState:
    found = loader()
    return found.project_state()


def migration(*operations, atomic: bool = True, app: str = "segments") -> migrations.Migration:
    made = migrations.Migration("0099_new", app)
    made.operations = list(operations)
    made.atomic = atomic
    return made


class TestTheRule:
    def test_no_migration_after_the_rule_locks_a_live_table_for_an_index(self):
        found = loader()
        problems = []
        for (app, name), candidate in sorted(found.disk_migrations.items()):
            if app not in OUR_APPS or (app, name) in PREDATING_THE_RULE:
                continue
            state = found.project_state((app, name), at_end=False)
            problems += lock_taking_operations(candidate, state)
        assert problems == []

    def test_the_migrations_before_the_rule_exist(self):
        # The grandfathered names must be real, or a typo would exempt nothing, silently.
        assert set(loader().disk_migrations) >= PREDATING_THE_RULE

    def test_it_would_have_caught_an_applied_migration(self):
        # 0004 added an index to the existing item assignment table with a plain AddIndex.
        found = loader()
        key = ("segments", "0004_tenant_first_indexes")
        state = found.project_state(key, at_end=False)
        assert lock_taking_operations(found.disk_migrations[key], state) == [
            "segments.0004_tenant_first_indexes: AddIndex itemassign_tenant_seg_idx on the "
            "existing table itemassignment locks it; use AddIndexConcurrently."
        ]

    @pytest.mark.parametrize(
        ("operations", "atomic", "problem"),
        [
            (
                [migrations.AddIndex("event", INDEX)],
                True,
                "AddIndex event_tenant_created_idx on the existing table event locks it",
            ),
            ([AddIndexConcurrently("event", INDEX)], False, None),
            ([AddIndexConcurrently("event", INDEX)], True, "needs `atomic = False`"),
            (
                [migrations.RemoveIndex("event", "event_tenant_seq_idx")],
                True,
                "RemoveIndex event_tenant_seq_idx on the existing table event",
            ),
            ([RemoveIndexConcurrently("event", "event_tenant_seq_idx")], False, None),
            (
                [
                    migrations.CreateModel(
                        "Tally", [("id", models.BigAutoField(primary_key=True))], options={}
                    ),
                    migrations.AddIndex("tally", models.Index(fields=["id"], name="tally_idx")),
                ],
                True,
                None,
            ),
            (
                [
                    migrations.AddField(
                        "event",
                        "segment",
                        models.ForeignKey("segments.segment", models.CASCADE, null=True),
                    )
                ],
                True,
                "AddField event.segment builds an index on an existing table",
            ),
            (
                [
                    migrations.AddField(
                        "event",
                        "segment",
                        models.ForeignKey(
                            "segments.segment", models.CASCADE, null=True, db_index=False
                        ),
                    )
                ],
                True,
                None,
            ),
            (
                [
                    migrations.AlterField(
                        "event", "resource_id", models.CharField(max_length=255, db_index=True)
                    )
                ],
                True,
                "AlterField event.resource_id builds an index",
            ),
            (
                [migrations.AlterField("event", "resource_id", models.CharField(max_length=300))],
                True,
                None,
            ),
            (
                [
                    migrations.AddConstraint(
                        "event",
                        models.UniqueConstraint(fields=["tenant", "resource_id"], name="ev_uniq"),
                    )
                ],
                True,
                "AddConstraint ev_uniq builds a unique index on the existing table event",
            ),
            (
                [migrations.RunSQL("CREATE INDEX ev_idx ON segments_event (created_at)")],
                True,
                "RunSQL creates an index without CONCURRENTLY",
            ),
            (
                [
                    migrations.SeparateDatabaseAndState(
                        database_operations=[
                            migrations.RunSQL(
                                "CREATE UNIQUE INDEX CONCURRENTLY ev_uniq ON segments_event "
                                "(tenant_id, resource_id)"
                            )
                        ]
                    )
                ],
                False,
                None,
            ),
            (
                [migrations.RunSQL("CREATE INDEX CONCURRENTLY ev_idx ON segments_event (id)")],
                True,
                "needs `atomic = False`",
            ),
        ],
        ids=[
            "plain AddIndex",
            "AddIndexConcurrently",
            "concurrent but atomic",
            "plain RemoveIndex",
            "RemoveIndexConcurrently",
            "index on a new table",
            "a foreign key added to a live table",
            "a foreign key without its index",
            "a field that gains db_index",
            "a field that stays unindexed",
            "a unique constraint",
            "raw CREATE INDEX",
            "raw CREATE UNIQUE INDEX CONCURRENTLY",
            "raw concurrent in an atomic migration",
        ],
    )
    def test_what_the_rule_finds(self, operations, atomic, problem):
        found = lock_taking_operations(
            migration(*operations, atomic=atomic), state_after_every_migration()
        )
        if problem is None:
            assert found == []
        else:
            [message] = found
            assert message.startswith("segments.0099_new: ")
            assert problem in message


@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY refuses a transaction
class TestTheOperations:
    def index_names(self) -> set[str]:
        with connection.cursor() as cursor:
            return set(connection.introspection.get_constraints(cursor, "segments_event"))

    def apply(self, operation, *, backwards: bool = False) -> list[str]:
        before = state_after_every_migration()
        after = before.clone()
        operation.state_forwards("segments", after)
        with (
            CaptureQueriesContext(connection) as queries,
            connection.schema_editor(atomic=False) as editor,
        ):
            if backwards:
                operation.database_backwards("segments", editor, after, before)
            else:
                operation.database_forwards("segments", editor, before, after)
        return [q["sql"] for q in queries]

    def test_adds_and_removes_the_index_concurrently_on_postgres(self):
        operation = AddIndexConcurrently("event", INDEX)
        created = self.apply(operation)
        assert INDEX.name in self.index_names()
        dropped = self.apply(operation, backwards=True)
        assert INDEX.name not in self.index_names()
        [create] = [sql for sql in created if "CREATE INDEX" in sql]
        [drop] = [sql for sql in dropped if "DROP INDEX" in sql]
        assert ("CONCURRENTLY" in create) is ON_POSTGRES
        assert ("CONCURRENTLY" in drop) is ON_POSTGRES

    def test_remove_index_concurrently_and_back(self):
        add = AddIndexConcurrently("event", INDEX)
        self.apply(add)
        state = state_after_every_migration()
        add.state_forwards("segments", state)
        remove = RemoveIndexConcurrently("event", INDEX.name)
        after = state.clone()
        remove.state_forwards("segments", after)
        with connection.schema_editor(atomic=False) as editor:
            remove.database_forwards("segments", editor, state, after)
        assert INDEX.name not in self.index_names()
        with connection.schema_editor(atomic=False) as editor:
            remove.database_backwards("segments", editor, after, state)
        assert INDEX.name in self.index_names()
        self.apply(add, backwards=True)

    @pytest.mark.postgres
    @pytest.mark.skipif(not ON_POSTGRES, reason="invalid indexes are PostgreSQL's")
    def test_an_invalid_index_left_by_an_interrupted_build_is_rebuilt(self):
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX {INDEX.name} ON segments_event (id)")
            cursor.execute(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                [INDEX.name],
            )
        operation = AddIndexConcurrently("event", INDEX)
        self.apply(operation)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indexrelid = %s::regclass",
                [INDEX.name],
            )
            valid, definition = cursor.fetchone()
        assert valid is True
        assert "(tenant_id, created_at)" in definition
        self.apply(operation, backwards=True)
