"""How the `q` language runs in the databases: an index-friendly equality on JSON paths for
PostgreSQL, as the named lookup `path_exact`, and regular expressions in RE2 on SQLite.

`path_exact` on the key path `mixins -> segmentAttributes -> membershipStatus` with "GOLD"
(what `q=mixins.a.b:GOLD` and `q=name.en:Gold` compile to) means Django's `exact`, which is
`(mixins #> '{a,b}') = '"GOLD"'`: no index can
serve it, and the planner guesses its selectivity blindly. For a scalar value on a path of
object keys the same condition is `mixins @> '{"a": {"b": "GOLD"}}'`, which a GIN
`jsonb_path_ops` index serves and whose selectivity PostgreSQL estimates from statistics.

The two are equivalent exactly when the value is a JSON scalar (string, number, boolean)
and no key of the path is an integer (which `#>` reads as an array index): a scalar
contains only an equal scalar, and a nested array does not contain a bare scalar.
Anything else keeps Django's own SQL, as does every other database.

Only the `q` compiler emits `path_exact`; Django's `exact` on JSON key paths stays as Django
defines it for every other query in the process (the admin's, third-party apps').

On SQLite, Django answers `__regex` with a REGEXP function of its own that runs Python's
backtracking `re`; `sqlite_regexp_register` puts `segments.query.regex.search` (RE2,
linear time) in its place on every new connection.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.db.backends.signals import connection_created
from django.db.models.fields.json import KeyTransform, KeyTransformExact

from segments.query import regex
from segments.query.compiler import PATH_EXACT


def _path(expression: Any) -> tuple[list[str], Any] | None:
    """(keys, root column) of a chain of plain KeyTransforms, or None for anything else."""
    keys: list[str] = []
    while type(expression) is KeyTransform:
        keys.insert(0, expression.key_name)
        expression = expression.lhs
    if not keys or isinstance(expression, KeyTransform):
        return None
    return keys, expression


def _is_index(key: str) -> bool:
    try:
        int(key)
    except ValueError:
        return False
    return True


def _is_scalar(value: Any) -> bool:
    if isinstance(value, bool | int | str):
        return True
    return isinstance(value, float) and math.isfinite(value)


class JsonPathExact(KeyTransformExact):
    """`exact` on a JSON key path; on PostgreSQL a containment test when that is the same."""

    def as_postgresql(self, compiler, connection) -> tuple[str, tuple]:
        """`"column" @> '{"a": {"b": value}}'::jsonb`, or Django's SQL when not equivalent."""
        found = _path(self.lhs) if type(self.lhs) is KeyTransform else None
        if found is None or not _is_scalar(self.rhs) or any(_is_index(k) for k in found[0]):
            return self.as_sql(compiler, connection)
        keys, root = found
        document: Any = self.rhs
        for key in reversed(keys):
            document = {key: document}
        root_sql, root_params = compiler.compile(root)
        return f"{root_sql} @> %s::jsonb", (*root_params, json.dumps(document))


def lookups_register() -> None:
    """Register `JsonPathExact` as `path_exact` on JSON key paths (called from the app config)."""
    # Registered under its own name, the class keeps `exact` as its `lookup_name`: Django
    # reads that for the operator, the casts and negation, which must be those of `exact`.
    KeyTransform.register_lookup(JsonPathExact, lookup_name=PATH_EXACT)


def _regexp_in_re2(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        # Replaces the REGEXP Django registered when it opened the connection.
        connection.connection.create_function("REGEXP", 2, regex.search, deterministic=True)


def sqlite_regexp_register() -> None:
    """Run SQLite's REGEXP in RE2 on every connection opened from now on (from the app config)."""
    connection_created.connect(_regexp_in_re2, dispatch_uid="segments.regexp_in_re2")
