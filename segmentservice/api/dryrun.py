"""`dryRun=true` on every write (SPEC §12): the real call's status and body, nothing kept.

A write is any request but GET, HEAD and OPTIONS to an action that is not one of its
viewset's `read_actions` (the POSTs that only read: `/search`, `/match`). The one place
that decides it is `is_write`; the viewset base (`segments.api.views.base`) and the
OpenAPI schema both ask it, so a write added later takes `dryRun` and documents it
without a line of its own.

For a dry run the viewset base runs the action's handler inside one transaction that is
always rolled back (`dry_run`):

- everything the handler writes, events included, is rolled back, and the `on_commit`
  hooks it registered (webhook wake-ups, cache forgetting) are dropped with it: Django
  runs them only when the outermost transaction commits;
- the handler runs exactly as in the real call: it sends the real call's statements in
  their order (the test of this module compares them), so it reads the same rows and
  takes the same row locks in the same order, and its status and body are the real
  call's. Nothing in a
  response depends on a sequence or counter that the rollback leaves advanced (database
  ids never appear; a generated segment id is random in either call);
- the transaction is the request's outermost one, opened just before the handler and
  closed as soon as it returns: the services' transactions run inside it as savepoints,
  so a row lock is held from the statement that takes it, as in the real call, until the
  handler returns instead of until its service returns, which is the time it takes to
  build the response (no query, no I/O). Like every service transaction, a dry run whose
  transaction the database aborts as a deadlock victim runs once more
  (`atomic_with_retry`).

The response carries `X-Dry-Run: true`. `dryRun=false` (or absent, or empty) is the
real call; any other value is a 400 naming the parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter

from segmentservice.db import atomic_with_retry

PARAMETER = "dryRun"
HEADER = "X-Dry-Run"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Marks what this service adds to the hosted service's contract in the OpenAPI document.
EXTENSION = {"x-extension": True}

DRY_RUN_PARAMETER = OpenApiParameter(
    PARAMETER,
    bool,
    description="Extension of the hosted contract: `true` answers exactly as the real call "
    "would (status and body), writes nothing and records no events, and adds the "
    f"response header `{HEADER}: true`. `false` or absent: the real call.",
    extensions=EXTENSION,
)

DRY_RUN_HEADER = OpenApiParameter(
    HEADER,
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=True,
    description="Extension of the hosted contract: present, `true`, on the answer to a dry "
    "run (`dryRun=true`), whatever its status.",
)


def is_write(view: Any, method: str) -> bool:
    """Whether `method` on `view` (a viewset, its `action` resolved) changes data."""
    if method.upper() in READ_METHODS:
        return False
    return getattr(view, "action", None) not in getattr(view, "read_actions", ())


def dry_run(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler`, run in a transaction that is rolled back whatever happens."""

    @functools.wraps(handler)
    @atomic_with_retry
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            transaction.set_rollback(True)

    return run
