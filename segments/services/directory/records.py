"""The directory import's records, reports and errors, and the limits it works within."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Sections of the document, in the order they are written (later ones refer to earlier ones).
KINDS = ("legalEntities", "customers", "groups", "categories", "products")
KIND_ALIASES = {
    "legalEntity": "legalEntities",
    "legalEntities": "legalEntities",
    "customer": "customers",
    "customers": "customers",
    "group": "groups",
    "groups": "groups",
    "category": "categories",
    "categories": "categories",
    "product": "products",
    "products": "products",
}
LIST_COLUMNS = frozenset({"legalEntities", "categories", "ecn", "members"})
DEFAULT_BATCH_SIZE = 1000
# PostgreSQL takes at most 65535 parameters a statement: lookups and membership inserts of a
# batch are cut into pieces well below that, whatever the number of references per record.
IDS_PER_LOOKUP = 10_000
MEMBERSHIPS_PER_STATEMENT = 10_000


class DirectoryFileError(Exception):
    """The file as a whole cannot be read: missing, not JSON, not of the expected shape."""


class RecordError(Exception):
    """One record is bad; the message says why."""


@dataclass(frozen=True)
class DirectoryRecord:
    """One record of the file: its kind, where it is ("products[17]", "line 18"), its data."""

    kind: str
    position: str
    data: Any
    index: int = 0


@dataclass
class ImportReport:
    """What an import did: records written per kind, and the records skipped, with why."""

    written: Counter = field(default_factory=Counter)
    ignored_keys: Counter = field(default_factory=Counter)
    _skipped: list[tuple[int, str, str]] = field(default_factory=list)

    def skip(self, record: DirectoryRecord, message: str) -> None:
        """Note a skipped record."""
        record_id = record.data.get("id") if isinstance(record.data, dict) else None
        where = (
            f"{record.position} (id {record_id})" if isinstance(record_id, str) else record.position
        )
        self._skipped.append((record.index, where, message))

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(where, why) of each skipped record, in the order of the file."""
        return [(where, message) for _, where, message in sorted(self._skipped)]
