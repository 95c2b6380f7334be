"""Whether this process can serve: the database answers and every migration is applied.

Only the verdicts leave this module ("ok", "unreachable", "pending", "unknown"), never the
database's error text, which can name hosts, ports and users; that goes to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

# Migrations are never unapplied under running code, so once they were all applied this
# process stops looking (reading the migration graph costs more than the probe should).
_migrations_applied = False


@dataclass(frozen=True)
class Readiness:
    """The checks' verdicts."""

    database: str
    migrations: str

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return self.database == "ok" and self.migrations == "ok"


def readiness_check() -> Readiness:
    """Run a trivial query, then compare the applied migrations with the code's."""
    global _migrations_applied
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Not ready: the database did not answer: %s", exc)
        return Readiness(database="unreachable", migrations="unknown")
    if _migrations_applied:
        return Readiness(database="ok", migrations="ok")
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        logger.warning("Not ready: the applied migrations could not be read: %s", exc)
        return Readiness(database="ok", migrations="unknown")
    if pending:
        logger.warning("Not ready: %d migration(s) not applied.", len(pending))
        return Readiness(database="ok", migrations="pending")
    _migrations_applied = True
    return Readiness(database="ok", migrations="ok")
