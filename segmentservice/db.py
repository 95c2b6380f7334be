"""Database helpers shared by the services."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def rows_update(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of `objs` (rows of one model) back in one statement; returns the count.

    Django's `bulk_update` builds a `CASE WHEN id = ... THEN ...` expression per field and
    row: for 200 rows and 10 fields, 2,000 resolved expressions, about 1.5 ms of CPU per
    row. On PostgreSQL this sends `UPDATE t SET f = v.f FROM unnest(ids, fs) v WHERE
    t.id = v.id` instead (and the tenant, where the model has one, must match too); elsewhere it
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
    # One array parameter per column, unnested into rows: a handful of parameters however
    # many rows, where VALUES would send (and psycopg parse) thousands of placeholders.
    arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in columns)
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs] for f in columns
    ]
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in written)
    matches = " AND ".join(f"t.{qn(f.column)} = v.{qn(f.column)}" for f in keys)
    names = ", ".join(qn(f.column) for f in columns)
    sql = (
        f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({arrays}) AS v ({names}) WHERE {matches}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
