"""Database helpers shared by the services."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar

from django.db import OperationalError, connection, connections, models, transaction
from django.db.backends.signals import connection_created
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import NOT_PROVIDED, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute

from segmentservice.exceptions import ConcurrentWriteConflict

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=models.Model)

# SQLSTATEs of a transaction that PostgreSQL aborted so that others could go on: a deadlock
# victim (40P01) or a serialization failure (40001). Run again from the start, it usually
# succeeds, since the transaction that won has committed meanwhile.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def atomic_with_retry(func: Callable[P, R]) -> Callable[P, R]:
    """`transaction.atomic`, run once more when the database aborts it as a deadlock victim
    or for a serialization failure; when the second run is aborted too, the caller gets
    `ConcurrentWriteConflict` (a 503) instead of the database error.

        @atomic_with_retry
        def segments_bulk_upsert(*, tenant, writes): ...

    Only a transaction of its own is retried: called inside another atomic block, the whole
    outer transaction is lost with the error, so the error goes to whoever opened it. The
    function runs from the start again, so its arguments must survive a second call (no
    one-shot iterators) and it must have no effect outside the database.
    """
    atomic_func = transaction.atomic(func)

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection().in_atomic_block:
            return atomic_func(*args, **kwargs)
        try:
            return atomic_func(*args, **kwargs)
        except OperationalError as error:
            if not is_retryable(error):
                raise
            logger.warning("%s was rolled back (%s); running it once more.", func.__name__, error)
        try:
            return atomic_func(*args, **kwargs)
        except OperationalError as error:
            if not is_retryable(error):
                raise
            logger.warning("%s was rolled back again (%s); giving up.", func.__name__, error)
            raise ConcurrentWriteConflict() from error

    return run


def is_retryable(error: OperationalError) -> bool:
    """Whether the database aborted the transaction only because of concurrent ones."""
    return getattr(error.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


class CurrentTransactionId(models.Func):
    """The writing transaction's id on PostgreSQL (`pg_current_xact_id()`); 0 elsewhere.

    As a column's database default, each row records the transaction that wrote it, so a
    reader holding a snapshot (`pg_current_snapshot()`) can tell whether that transaction
    had committed when the snapshot was taken. Inside a savepoint it is still the id of
    the top-level transaction, the one whose commit counts.
    """

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return "0", []


def rows_update(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of `objs` (rows of one model) back in one statement; returns the count.

    Django's `bulk_update` builds a `CASE WHEN id = ... THEN ...` expression per field and
    row: for 200 rows and 10 fields, 2,000 resolved expressions, about 1.5 ms of CPU per
    row. On PostgreSQL this sends `UPDATE t SET f = v.f FROM jsonb_to_recordset(rows) v
    WHERE t.id = v.id` instead (and the tenant, where the model has one, must match too); elsewhere it
    is `bulk_update`. Like `bulk_update`, no `pre_save` (so no `auto_now`) and no signals.
    """
    if not objs:
        return 0
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(objs, list(fields))
    meta = model._meta
    written = [meta.get_field(name) for name in fields]
    keys = [meta.pk]
    if any(f.name == "tenant" for f in meta.concrete_fields):
        keys.append(meta.get_field("tenant"))
    columns = [*keys, *written]
    qn = connection.ops.quote_name
    # The rows travel as one JSON document, read back by jsonb_to_recordset: one parameter
    # and one C-speed json.dumps, where VALUES needs thousands of placeholders and text
    # arrays need every JSON value escaped. JSON null becomes SQL NULL, as Django stores None.
    document = _rows_json([{f.column: getattr(obj, f.attname) for f in columns} for obj in objs])
    types = ", ".join(f"{qn(f.column)} {f.cast_db_type(connection)}" for f in columns)
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in written)
    matches = " AND ".join(f"t.{qn(f.column)} = v.{qn(f.column)}" for f in keys)
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v ({types}) WHERE {matches}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        return cursor.rowcount


def _rows_json(rows: list[dict[str, Any]]) -> str:
    """Rows as one JSON document: instants in full ISO 8601 (with microseconds and offset).

    The encoder calls `_json_instant` only for what JSON has no type for, so the other
    values go through at C speed instead of each being checked in Python first.
    """
    return json.dumps(rows, default=_json_instant)


def _json_instant(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def rows_insert(objs: Sequence[models.Model]) -> int:
    """Insert `objs` (new rows of one model, ids not needed back) in one statement.

    Django's `bulk_create` on PostgreSQL sends each column as a text array through
    `UNNEST`, and psycopg escapes every element of a JSON column with `re.sub`: for 200
    change events, about a third of a bulk upsert's CPU. On PostgreSQL this sends the rows
    as one JSON document, `INSERT ... SELECT ... FROM jsonb_to_recordset(...)`, ordered by
    position so ids follow the order of `objs` as with `bulk_create`; elsewhere it is
    `bulk_create`. The instances' ids are not set, and columns with a database default
    (`db_default`) are left to it. Returns the number of rows inserted.
    """
    if not objs:
        return 0
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return len(model.objects.bulk_create(objs))
    columns = _insert_columns(model)
    return _document_insert(
        model, columns, [{f.column: getattr(obj, f.attname) for f in columns} for obj in objs]
    )


def values_insert(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> int:
    """Insert new rows of `model` given as `{attname: value}` dicts, as `rows_insert` does
    instances, without building one: a field a row leaves out takes its default, as
    `model(**row)` would give it (a foreign key by its attname, `tenant_id`, skips the
    descriptor and the router's relation check an instance goes through).
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        return len(model.objects.bulk_create([model(**row) for row in rows]))
    columns = _insert_columns(model)
    given = [f for f in columns if f.attname in rows[0]]
    defaulted = [f for f in columns if f.attname not in rows[0]]
    return _document_insert(
        model,
        columns,
        [
            {
                **{f.column: row[f.attname] for f in given},
                **{f.column: f.get_default() for f in defaulted},
            }
            for row in rows
        ],
    )


def _insert_columns(model: type[models.Model]) -> list[models.Field]:
    return [
        f for f in model._meta.concrete_fields if not f.primary_key and f.db_default is NOT_PROVIDED
    ]


def _document_insert(
    model: type[models.Model], columns: Sequence[models.Field], rows: list[dict[str, Any]]
) -> int:
    qn = connection.ops.quote_name
    document = _rows_json(rows)
    names = ", ".join(qn(f.column) for f in columns)
    types = ", ".join(f"{qn(f.column)} {f.cast_db_type(connection)}" for f in columns)
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({names}) SELECT {names} "
        f"FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({types})) "
        f"WITH ORDINALITY AS v ({names}, ord) ORDER BY v.ord"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        return cursor.rowcount


def rows_insert_or_lock(objs: Sequence[M], *, unique: Sequence[str]) -> list[M]:
    """Insert each of `objs` whose `unique` key is free, lock the stored row of each other
    one until the transaction ends; returns the inserted ones, their ids set.

    On PostgreSQL this is one `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE false`
    over the rows sorted by key: it inserts or locks (`FOR UPDATE` strength, nothing
    written) row after row in key order, and waits for a concurrent insert of the same key
    to commit or roll back instead of failing. So writers of overlapping batches take their
    locks in one order and cannot deadlock, whether the rows exist yet or not; a separate
    `SELECT ... FOR UPDATE` of the existing rows followed by an INSERT of the others would
    take them in two passes. `unique` must be the fields of a unique constraint without a
    condition, and keys must not repeat within `objs`. Elsewhere (SQLite, whose writers
    take turns on the whole database) it looks the taken keys up and inserts the others.
    """
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    key = [meta.get_field(name) for name in unique]
    if connection.vendor != "postgresql":
        lookup = {f"{f.attname}__in": {getattr(obj, f.attname) for obj in objs} for f in key}
        taken = set(model.objects.filter(**lookup).values_list(*(f.attname for f in key)))
        fresh = [obj for obj in objs if _key(obj, key) not in taken]
        model.objects.bulk_create(fresh)
        return fresh
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    document = _rows_json([{f.column: getattr(obj, f.attname) for f in columns} for obj in objs])
    names = ", ".join(qn(f.column) for f in columns)
    types = ", ".join(f"{qn(f.column)} {f.cast_db_type(connection)}" for f in columns)
    key_names = ", ".join(qn(f.column) for f in key)
    # Setting a key column makes the lock FOR UPDATE, as select_for_update() takes it.
    locked = qn(key[-1].column)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({names}) SELECT {names} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v ({types}) ORDER BY {key_names} "
        f"ON CONFLICT ({key_names}) DO UPDATE SET {locked} = EXCLUDED.{locked} WHERE false "
        f"RETURNING {qn(meta.pk.column)}, {key_names}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
        inserted = {tuple(row[1:]): row[0] for row in cursor.fetchall()}
    fresh = []
    for obj in objs:
        pk = inserted.get(_key(obj, key))
        if pk is not None:
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
            fresh.append(obj)
    return fresh


def _key(obj: models.Model, key: Sequence[models.Field]) -> tuple:
    return tuple(getattr(obj, f.attname) for f in key)


def tables_analyze(models_: Sequence[type[models.Model]], *, rows: int | None = None) -> bool:
    """`ANALYZE` the models' tables on PostgreSQL after a bulk load; returns whether it ran.

    A load of many rows into tables that already hold other tenants' rows moves too
    small a share of them for autovacuum to analyze soon (by default it waits for 10% of
    the table to change), so the planner goes on estimating the new rows from statistics
    that have never seen them. With `rows`, only a load of at least `ANALYZE_AFTER_ROWS`
    rows analyzes (a few rows change no estimate worth the pass). Elsewhere nothing.
    """
    if connection.vendor != "postgresql":
        return False
    if rows is not None and rows < ANALYZE_AFTER_ROWS:
        return False
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in dict.fromkeys(models_):
            cursor.execute(f"ANALYZE {qn(model._meta.db_table)}")
    return True


# The smallest load `tables_analyze(..., rows=n)` analyzes after.
ANALYZE_AFTER_ROWS = 1_000


def prepared_cursor(connection_: Any) -> Any:
    """A cursor of `connection_` whose statements PostgreSQL parses and plans once per
    connection: the hot reads (the tenant, compiled reads, category trees) run through it.
    Only for a statement whose plan does not hang on its values: after five runs
    PostgreSQL may keep one generic plan for any values (match is not run here: its
    generic plan took 200 ms against 8 ms).

    Django binds parameters on the client, so the server plans every statement afresh; a
    customer's segment ids took 0.3 ms to plan and 0.06 ms to run. On PostgreSQL with
    `DATABASE_PREPARED_STATEMENTS` on (the `prepare_threshold` connection option) this is
    psycopg's server-binding cursor, which prepares a statement on its
    `prepare_threshold`-th run and reuses it after (psycopg keeps the 100 last used per
    connection; a rollback forgets them). It is wrapped as Django wraps its own cursors,
    so query counts, `execute_wrapper`s, the health check and database errors are the
    same. Elsewhere it is `connection_.cursor()`.
    """
    options = connection_.settings_dict.get("OPTIONS", {})
    if connection_.vendor != "postgresql" or options.get("prepare_threshold") is None:
        return connection_.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection_.close_if_health_check_failed()
    connection_.ensure_connection()
    connection_.validate_thread_sharing()
    with connection_.wrap_database_errors:
        cursor = ServerBindingCursor(connection_.connection)
    if connection_.queries_logged:
        return _PreparedDebugCursor(cursor, connection_)
    return connection_.make_cursor(cursor)


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs a statement of `prepared_cursor` with its values, as Django's own debug cursor
    logs one it bound on the client (Django reads that text off the cursor, which holds
    `$1` here, or nothing once the statement is prepared)."""

    def execute(self, sql: str, params: Any = None) -> Any:
        literal = self.db.ops.compose_sql(sql, params) if params is not None else sql
        with self.debug_sql(literal, params):
            return CursorWrapper.execute(self, sql, params)


def timestamp_loader_register() -> None:
    """Read PostgreSQL's timestamps with the standard library's C parser on every connection
    opened from now on (called from the app config)."""
    connection_created.connect(_timestamps_parsed_in_c, dispatch_uid="segmentservice.timestamps")


def _timestamps_parsed_in_c(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql":
        return
    import psycopg
    from psycopg.pq import Format

    adapters = connection.connection.adapters
    oid = psycopg.postgres.types["timestamptz"].oid
    adapters.register_loader(oid, _iso_timestamp_loader(adapters.get_loader(oid, Format.TEXT)))


@functools.cache
def _iso_timestamp_loader(django_loader: type) -> type:
    """Django's loader of `timestamptz` text, reading what the session sends for UTC
    (`2024-05-14 12:00:00.5+00`) with `datetime.fromisoformat`: 0.7 µs a value against 2.6
    µs in psycopg's Python parser, a tenth of a page of 60 item assignments. Anything else
    (another offset, BC, infinity, a year past 9999) goes to Django's loader as before."""

    class IsoTimestamptzLoader(django_loader):
        def load(self, data: Any) -> datetime:
            text = bytes(data)
            if text.endswith(b"+00"):
                try:
                    parsed = datetime.fromisoformat(text.decode())
                except ValueError:
                    pass
                else:
                    return parsed.replace(tzinfo=self.timezone)
            return super().load(data)

    return IsoTimestamptzLoader


class QueryTemplate:
    """A queryset compiled to SQL once per database, then run with new values.

    Building and compiling a queryset costs the same CPU on every request however often
    its shape repeats; a customer's segment ids (a UNION of two subqueries over four
    tables) cost 40% of a customer's read. Here `build(**sentinels)` is compiled once
    per database as a `CompiledQuery` (`slots`: name → the value's model field), and
    every later call sends the same SQL with the call's values.

        ids = QueryTemplate(build, tenant=Segment._meta.get_field("tenant"), ...)
        ids.rows(using="default", tenant="acme", ...)
    """

    def __init__(self, build: Callable[..., models.QuerySet], **slots: models.Field) -> None:
        self.build = build
        self.slots = slots
        self._compiled: dict[str, CompiledQuery] = {}

    def rows(self, *, using: str, **values: Any) -> list[tuple]:
        """The rows of the query for `values` (one per slot), read on `using`."""
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = CompiledQuery(lambda sentinels: self.build(**sentinels), using, self.slots)
            self._compiled[using] = compiled
        return compiled.rows(**values)


def slot_sentinels(slots: dict[str, models.Field], variant: int = 0) -> dict[str, Any]:
    """A value for each slot that no request sends, of the slot's type; each `variant`
    (0 or 1) gives other values."""
    sentinels: dict[str, Any] = {}
    for number, (name, field) in enumerate(slots.items()):
        if isinstance(field, models.DateTimeField):
            # An instant no request asks for: 1 January 1901 (or 1902), 01:23:45 UTC.
            sentinels[name] = datetime(1901 + variant, 1, 1, 1, 23, 45, number, tzinfo=UTC)
        elif isinstance(field, models.IntegerField | models.AutoField):
            sentinels[name] = -7_340_000_000_000 - 1_000_000_000 * variant - number
        else:
            sentinels[name] = f"\x1eslot{variant}:{name}\x1e"
    return sentinels


class TemplateRefused(ValueError):
    """A queryset that cannot be compiled once and run again with other values."""


class CompiledQuery:
    """A queryset compiled to SQL once, then run with new values in its slots.

    `build(sentinels)` returns the queryset with `sentinels` (one per slot of `slots`,
    name → the value's model field) where a request's values go. It is built and
    compiled twice, with two sets of sentinels: the SQL must be the same, and each
    parameter either the same both times or the two sentinels of one slot, which makes
    it that slot. `rows(**values)` then sends that SQL with the call's values, prepared as
    Django prepares them, and returns tuples; `instances(**values)` returns what iterating
    the queryset would: its model's instances, with their annotations, converted as
    Django converts them.

    Refused (`TemplateRefused`): SQL or a parameter that differs between the two builds
    otherwise (a "now", which every later run would repeat); a sentinel the compiled
    query holds in another form (inside a `LIKE` pattern, in the SQL text). `instances`
    refuses `select_related`, `prefetch_related` and rows of a related manager, whose
    instances need more than one model built per row.
    """

    def __init__(
        self,
        build: Callable[[dict[str, Any]], models.QuerySet],
        using: str,
        slots: dict[str, models.Field],
    ) -> None:
        connection_ = connections[using]
        self.using = using
        self.slots = slots
        compiled = []
        for variant in (0, 1):
            sentinels = slot_sentinels(slots, variant)
            queryset = build(sentinels)
            compiler = queryset.query.get_compiler(connection=connection_)
            sql, raw = compiler.as_sql()
            marks = {
                name: slots[name].get_db_prep_value(value, connection_, prepared=False)
                for name, value in sentinels.items()
            }
            compiled.append((sql, list(raw), marks))
        (self.sql, first, marks), (second_sql, second, second_marks) = compiled
        if second_sql != self.sql or len(second) != len(first):
            raise TemplateRefused("The SQL differs between two builds.")
        self.params = _slot_params(self.sql, first, marks, second, second_marks)
        self.query = queryset.query
        self.instance_shape = _instance_shape(queryset, compiler)

    def values(self, values: dict[str, Any]) -> list[Any]:
        """The parameters of the SQL for `values`, one per slot."""
        connection_ = connections[self.using]
        prepared = {
            name: field.get_db_prep_value(values[name], connection_, prepared=False)
            for name, field in self.slots.items()
        }
        return [prepared[slot] if slot else value for slot, value in self.params]

    def rows(self, **values: Any) -> list[tuple]:
        """The rows of the query for `values`, as the database returns them."""
        with prepared_cursor(connections[self.using]) as cursor:
            cursor.execute(self.sql, self.values(values))
            return cursor.fetchall()

    def instances(self, **values: Any) -> list[models.Model]:
        """The queryset's instances for `values`, as iterating it would build them."""
        if isinstance(self.instance_shape, str):
            raise TemplateRefused(self.instance_shape)
        select, klass_info, annotation_col_map, col_count = self.instance_shape
        fetched = self.rows(**values)
        # A compiler of this thread's connection converts the values, as Django's would.
        compiler = self.query.get_compiler(using=self.using)
        compiler.select, compiler.klass_info = select, klass_info
        compiler.annotation_col_map, compiler.col_count = annotation_col_map, col_count
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[start:end]]
        build = instance_builder(model, names)
        built = []
        for row in compiler.results_iter(results=[fetched]):
            instance = build(self.using, names, row[start:end])
            for name, position in (annotation_col_map or {}).items():
                setattr(instance, name, row[position])
            built.append(instance)
        return built


def instance_builder(model: type[M], names: list[str]) -> Callable[[str, list[str], Any], M]:
    """How to build `model` instances from rows of every one of its columns (`names`, in
    field order): `model.from_db`, or its equal without `Model.__init__`, which costs
    more than reading the row (a `setattr` through a descriptor per column).

    The equal is used only where `__init__` would do nothing more than put each value in
    the instance's `__dict__`: no `pre_init`/`post_init` receivers for the model, every
    column (no deferred ones), and no descriptor on a column's name that does more on a
    new instance than Django's deferred and foreign-key attributes. Tested against
    `from_db` for every model the compiled reads build.
    """
    if (
        names != [field.attname for field in model._meta.concrete_fields]
        or signals.pre_init.has_listeners(model)
        or signals.post_init.has_listeners(model)
        or any(not _plain_column(model, name) for name in names)
    ):
        return model.from_db

    def build(using: str, names: list[str], values: Any) -> M:
        instance = model.__new__(model)
        state = ModelState()
        state.adding, state.db = False, using
        instance.__dict__.update(zip(names, values, strict=True), _state=state)
        return instance

    return build


def _plain_column(model: type[models.Model], name: str) -> bool:
    descriptor = getattr(model, name, None)
    return type(descriptor) in (DeferredAttribute, ForeignKeyDeferredAttribute)


def _slot_of(value: Any, marks: dict[str, Any]) -> str | None:
    return next((n for n, m in marks.items() if type(value) is type(m) and value == m), None)


def _slot_params(
    sql: str,
    first: list[Any],
    marks: dict[str, Any],
    second: list[Any],
    second_marks: dict[str, Any],
) -> list[tuple[str | None, Any]]:
    """(slot, None) for each parameter that is a slot's, (None, value) for a constant."""
    params: list[tuple[str | None, Any]] = []
    for value, other in zip(first, second, strict=True):
        slot = _slot_of(value, marks)
        if slot is not None and _slot_of(other, second_marks) == slot:
            params.append((slot, None))
            continue
        if isinstance(value, str) and any(str(m) in value for m in marks.values()):
            raise TemplateRefused(f"A slot's value is part of the parameter {value!r}.")
        if slot is not None or type(value) is not type(other) or value != other:
            raise TemplateRefused(f"The parameter {value!r} differs between two builds.")
        params.append((None, value))
    if any(str(m) in sql for m in marks.values()):
        raise TemplateRefused("A slot's value is part of the SQL text.")
    return params


def _instance_shape(queryset: models.QuerySet, compiler: Any) -> tuple | str:
    """What `instances` needs of the compiler, or why the rows cannot be built from it."""
    if queryset._prefetch_related_lookups or queryset._known_related_objects:
        return "Related rows are read with the queryset's own rows."
    if compiler.klass_info is None:
        return "The queryset reads values, not instances."
    if compiler.klass_info.get("related_klass_infos"):
        return "The rows are built with their related rows (select_related)."
    return compiler.select, compiler.klass_info, compiler.annotation_col_map, compiler.col_count
