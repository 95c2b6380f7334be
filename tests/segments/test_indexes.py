"""Every index of the segments' tables starts with the tenant, as the database has them.

So a lookup never mixes tenants, and the tables could be distributed by tenant. (The API
clients are a control-plane table: their `client_id` is unique across tenants, since the
token endpoint names no tenant.)"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models


def tenant_tables() -> dict[str, type[models.Model]]:
    return {
        model._meta.db_table: model
        for model in apps.get_app_config("segments").get_models()
        if any(f.attname == "tenant_id" for f in model._meta.concrete_fields)
    }


def foreign_key_by_id(model: type[models.Model], columns: list[str]) -> bool:
    """Django's own index of a foreign key other than the tenant: rows found by a parent's
    id, unique across tenants, when the parent is deleted."""
    if len(columns) != 1:
        return False
    field = next((f for f in model._meta.concrete_fields if f.column == columns[0]), None)
    return isinstance(field, models.ForeignKey) and field.name != "tenant"


@pytest.mark.django_db
def test_every_index_of_a_tenant_table_starts_with_the_tenant():
    tables = tenant_tables()
    assert len(tables) >= 10  # the scan found the tenants' tables
    stray, checked = [], 0
    with connection.cursor() as cursor:
        for table, model in tables.items():
            for name, info in connection.introspection.get_constraints(cursor, table).items():
                if not (info["index"] or info["unique"]) or info["primary_key"]:
                    continue
                columns = [c for c in info["columns"] if c]
                checked += 1
                if columns[:1] == ["tenant_id"] or foreign_key_by_id(model, columns):
                    continue
                stray.append(f"{table}.{name} {columns}")
    assert checked >= 30  # the composite indexes and unique constraints of the models
    assert stray == []
