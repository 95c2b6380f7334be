"""The tenant's change counter, read for ETags: one primary-key row.

What a tenant's API shows changes only with a committed write (which moves its
`ChangeCounter.generation`, see `segments.services.changes`) or with time: a segment whose
validity starts or ends becomes, or stops being, effective. The counter row keeps the next
such instants, so "which of them have passed" completes the version.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import datetime

from django.utils import timezone

from segments.models import ChangeCounter
from segmentservice.routers import read_connection
from tenants.models import Tenant

_READ = (
    f"SELECT generation, boundaries, boundaries_complete FROM {ChangeCounter._meta.db_table} "
    "WHERE tenant_id = %s"
)


def tenant_version(*, tenant: Tenant, at: datetime | None = None) -> str | None:
    """The version of everything the tenant's API shows at `at` (default now), e.g. "17.2":
    the same string exactly while nothing changed. None when it cannot be told (more
    validity boundaries to come than the counter keeps, and they have all passed)."""
    # One statement, by primary key, from where the request reads its data (a replica in
    # a web request): building it through the ORM cost a third of a 304's CPU.
    with read_connection(ChangeCounter).cursor() as cursor:
        cursor.execute(_READ, [tenant.pk])
        row = cursor.fetchone()
    if row is None:  # no change yet: migration 0011 gave every tenant there was a row
        return "0.0"
    generation, boundaries, complete = row
    if isinstance(boundaries, str):
        boundaries = json.loads(boundaries)
    at = at or timezone.now()
    passed = bisect_right(boundaries, at.timestamp())
    if passed == len(boundaries) and not complete:
        return None
    return f"{generation}.{passed}"
