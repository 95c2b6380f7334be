"""Import of the referenced records: legal entities, customers, groups, categories and products
(SPEC §8, §11).

    records = directory_read(Path("directory.json"), default_language="en")
    report = directory_import(tenant=t, records=records, batch_size=1000, progress=bar.update)

`directory_read` understands a JSON document of the SPEC's shape, JSON Lines (one record a
line, with `"type": "product"` and so on) and CSV (a `type` column; dotted columns such as
`name.en` or `validity.from`; lists such as `categories` separated by `|`). Every key but
`id` is optional, and a key left out leaves the stored value alone: a product without
`categories` keeps its categories, one with `"categories": []` loses them.

A group is `{"id", "name", "userType": "CUSTOMER"|"EMPLOYEE", "legalEntityId", "members"}`;
an EMPLOYEE group cannot stay assigned to segments, so turning a group into one removes
its group assignments (with their deleted events) in the same transaction.

Records are upserted in dependency order (legal entities, customers, groups, categories, products)
and in batches, each batch one transaction with a handful of statements. A bad record —
wrong shape, an unknown reference, a parent that would make a cycle — is reported with its
position and skipped; the rest of its batch is written. Nothing is ever half-written: a
record and its memberships (and a category and its parent) go in the same transaction.
"""

from segments.services.directory.readers import directory_read
from segments.services.directory.records import (
    DEFAULT_BATCH_SIZE,
    KINDS,
    DirectoryFileError,
    DirectoryRecord,
    ImportReport,
    RecordError,
)
from segments.services.directory.writer import directory_import

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "KINDS",
    "DirectoryFileError",
    "DirectoryRecord",
    "ImportReport",
    "RecordError",
    "directory_import",
    "directory_read",
]
