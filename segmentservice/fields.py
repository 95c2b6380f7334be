"""Model fields: Django's, read back faster where a read decodes one per row."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from django.db import models

# Where orjson may read an integer as a float; in a string or a long fraction, it is only
# a document that Django's decoding reads instead, to the same values.
_LONG_NUMBER = re.compile(r"\d{19}")


def json_column(text: str) -> Any:
    """A JSON column's text as `JSONField` decodes it: by orjson, or by the standard
    library where orjson would read it otherwise. For rows read without the ORM."""
    value = _orjson_loads(text)
    return json.loads(text) if value is _REFUSED else value


# What `_orjson_loads` answers for a document it leaves to the standard library.
_REFUSED = object()


def _orjson_loads(text: str) -> Any:
    if _LONG_NUMBER.search(text):
        return _REFUSED
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _REFUSED


class JSONField(models.JSONField):
    """Django's `JSONField`, its values decoded by orjson when read from the database.

    Every row of a list decodes its JSON columns (an item assignment three, a segment two);
    `json.loads` took 12% of the CPU of a page of 60 item assignments, orjson a fifth of
    that. A document orjson would read otherwise goes to Django's own decoding: one it
    refuses (the `NaN` that SQLite keeps as text), and one with a run of 19 or more digits,
    since orjson reads an integer past 64 bits as a float (10**30 as 1e30). So does a
    field with its own `decoder`: what a read returns is what Django's field returns.
    The column, its SQL and its migrations are Django's (`deconstruct` names
    `django.db.models.JSONField`): only the decoding differs, and a historical model in a
    migration needs none of it.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if isinstance(value, str) and self.decoder is None:
            decoded = _orjson_loads(value)
            if decoded is not _REFUSED:
                return decoded
        return super().from_db_value(value, expression, connection)

    def deconstruct(self) -> tuple[str, str, list, dict]:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
