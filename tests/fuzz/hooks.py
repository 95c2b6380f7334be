"""Schemathesis hooks for tests/fuzz/run.py (loaded through `hooks` in schemathesis.toml).

`fields=a,b` answers only the named fields: a projection that no OpenAPI document can
describe, since any required field may then be left out. A "required property" violation of
a response to a request with `fields` is therefore not a schema lie; every other violation
of such a response (a wrong type, an unknown enum value) still counts, and the
projection itself is tested in the suite (tests/segments/api/test_segments_list.py).

Stateful sequences send their writes for real, not as dry runs (`before_call`).
"""

from __future__ import annotations

import schemathesis
from schemathesis.generation.meta import TestPhase
from schemathesis.openapi.checks import JsonSchemaError


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but a missing required field in a projected (`fields`) response."""
    projected = bool((case.query or {}).get("fields"))
    missing_required = isinstance(failure, JsonSchemaError) and list(failure.schema_path)[-1:] == [
        "required"
    ]
    return not (projected and missing_required)


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Stateful sequences write for real: `dryRun=true` becomes `dryRun=false` there.

    A sequence follows a write with the reads its links lead to, and checks that what a
    201 created can be read and what a 204 deleted cannot; after a dry run (an extension
    of the contract that writes nothing, tested in tests/segments/api/test_dry_run.py)
    neither holds, by design. Other phases keep their dry runs, and a `dryRun` value the
    service must refuse is left as it is everywhere.
    """
    phase = getattr(getattr(case.meta, "phase", None), "name", None)
    if phase != TestPhase.STATEFUL or not case.query:
        return
    if str(case.query.get("dryRun", "")).lower() in ("true", "1"):
        case.query["dryRun"] = "false"
