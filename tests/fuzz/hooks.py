"""Schemathesis hooks for tests/fuzz/run.py (loaded through `hooks` in schemathesis.toml).

`fields=a,b` answers only the named fields: a projection that no OpenAPI document can
describe, since any required field may then be left out. A "required property" violation of
a response to a request with `fields` is therefore not a schema lie; every other violation
of such a response (a wrong type, an unknown enum value) still counts, and the
projection itself is tested in the suite (tests/segments/api/test_segments_list.py).
"""

from __future__ import annotations

import schemathesis
from schemathesis.openapi.checks import JsonSchemaError


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but a missing required field in a projected (`fields`) response."""
    projected = bool((case.query or {}).get("fields"))
    missing_required = isinstance(failure, JsonSchemaError) and list(failure.schema_path)[-1:] == [
        "required"
    ]
    return not (projected and missing_required)
