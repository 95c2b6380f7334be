"""Import of the referenced records: legal entities, customers, categories and products (SPEC §8).

    records = directory_read(Path("directory.json"), default_language="en")
    report = directory_import(tenant=t, records=records, batch_size=1000, progress=bar.update)

`directory_read` understands a JSON document of the SPEC's shape, JSON Lines (one record a
line, with `"type": "product"` and so on) and CSV (a `type` column; dotted columns such as
`name.en` or `validity.from`; lists such as `categories` separated by `|`). Every key but
`id` is optional, and a key left out leaves the stored value alone: a product without
`categories` keeps its categories, one with `"categories": []` loses them.

Records are upserted in dependency order (legal entities, customers, categories, products)
and in batches, each batch one transaction with a handful of statements. A bad record —
wrong shape, an unknown reference, a parent that would make a cycle — is reported with its
position and skipped; the rest of its batch is written. Nothing is ever half-written: a
record and its memberships (and a category and its parent) go in the same transaction.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from segments.models import (
    EXTERNAL_ID_MAX,
    Category,
    Customer,
    CustomerLegalEntity,
    LegalEntity,
    Product,
    ProductCategory,
)
from segmentservice.formats import unstorable_text
from tenants.models import Tenant

# Sections of the document, in the order they are written (later ones refer to earlier ones).
KINDS = ("legalEntities", "customers", "categories", "products")
KIND_ALIASES = {
    "legalEntity": "legalEntities",
    "legalEntities": "legalEntities",
    "customer": "customers",
    "customers": "customers",
    "category": "categories",
    "categories": "categories",
    "product": "products",
    "products": "products",
}
LIST_COLUMNS = frozenset({"legalEntities", "categories", "ecn"})
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


# --- reading -------------------------------------------------------------------------------------


def directory_read(path: Path, *, file_format: str | None = None) -> list[DirectoryRecord]:
    """The records of a JSON, JSON Lines or CSV file; raises DirectoryFileError."""
    if not path.is_file():
        raise DirectoryFileError(f"{path} does not exist or is not a file.")
    file_format = file_format or _guess_format(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if file_format == "csv":
                return list(_read_csv(handle))
            if file_format == "jsonl":
                return list(_read_json_lines(handle))
            return _read_document(handle)
    except UnicodeDecodeError as exc:
        raise DirectoryFileError(f"{path} is not UTF-8 text: {exc}.") from None


def _guess_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "json"


def _read_document(handle) -> list[DirectoryRecord]:
    try:
        document = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DirectoryFileError(
            f"Not a JSON document: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    if not isinstance(document, dict):
        raise DirectoryFileError(
            "The JSON document must be an object with legalEntities, customers, categories "
            "and/or products."
        )
    unknown = sorted(set(document) - set(KINDS))
    if unknown:
        raise DirectoryFileError(
            f"Unknown section(s) {', '.join(unknown)}; expected {', '.join(KINDS)}."
        )
    records: list[DirectoryRecord] = []
    for kind in KINDS:
        section = document.get(kind)
        if section is None:
            continue
        if not isinstance(section, list):
            raise DirectoryFileError(f"{kind} must be an array of records.")
        base = len(records)
        records.extend(
            DirectoryRecord(kind, f"{kind}[{index}]", data, base + index)
            for index, data in enumerate(section)
        )
    return records


def _read_json_lines(handle) -> Iterator[DirectoryRecord]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        position = f"line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield DirectoryRecord("", position, f"not JSON: {exc.msg}", number)
            continue
        yield _typed_record(data, position, number)


def _read_csv(handle) -> Iterator[DirectoryRecord]:
    reader = csv.DictReader(handle)
    if not reader.fieldnames or "type" not in reader.fieldnames:
        raise DirectoryFileError("The CSV file needs a header row with a 'type' column.")
    for row in reader:
        line = reader.line_num
        position = f"line {line}"
        data: dict[str, Any] = {}
        for column, cell in row.items():
            if column is None:
                yield DirectoryRecord("", position, "more cells than header columns", line)
                break
            if cell is None or (cell == "" and column != "parentId"):
                continue
            _put(data, column, _csv_value(column, cell))
        else:
            yield _typed_record(data, position, line)


def _csv_value(column: str, cell: str) -> Any:
    if column in LIST_COLUMNS:
        return [part.strip() for part in cell.split("|") if part.strip()]
    if column == "parentId":
        return cell or None
    if column == "position":
        try:
            return int(cell)
        except ValueError:
            return cell
    if column == "published":
        return {"true": True, "1": True, "false": False, "0": False}.get(cell.lower(), cell)
    if column == "attributes":
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return cell
    return cell


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _typed_record(data: Any, position: str, index: int) -> DirectoryRecord:
    if not isinstance(data, dict):
        return DirectoryRecord("", position, "a record must be an object", index)
    data = dict(data)
    kind = KIND_ALIASES.get(str(data.pop("type", "")))
    if kind is None:
        return DirectoryRecord(
            "", position, "type must be legalEntity, customer, category or product", index
        )
    return DirectoryRecord(kind, position, data, index)


# --- checking one record -----------------------------------------------------------------------


def _text(data: dict, key: str, limit: int) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string.")
    if len(value) > limit:
        raise RecordError(f"{key} must be at most {limit} characters long.")
    return value


def _id(data: dict) -> str:
    value = data.get("id")
    if not isinstance(value, str) or not value.strip():
        raise RecordError("id must be a non-empty string.")
    if len(value) > EXTERNAL_ID_MAX:
        raise RecordError(f"id must be at most {EXTERNAL_ID_MAX} characters long.")
    return value


def _ids(data: dict, key: str) -> list[str] | None:
    if key not in data:
        return None
    value = data[key] if data[key] is not None else []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RecordError(f"{key} must be an array of ids.")
    return list(dict.fromkeys(value))


def _localized(data: dict, key: str, default_language: str) -> dict[str, str] | None:
    if key not in data:
        return None
    value = data[key]
    if value is None:
        return {}
    if isinstance(value, str):
        return {default_language: value}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise RecordError(f"{key} must be a map of language to text, or a text.")


def _instant(value: Any, key: str) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise RecordError(f"{key} must be an ISO 8601 instant such as 2024-05-14T12:00:00Z.")
    return make_aware(parsed, UTC) if is_naive(parsed) else parsed


# Per kind: the keys it knows, and a function returning (column values, references).
_KNOWN = {
    "legalEntities": {"id", "name"},
    "customers": {"id", "firstName", "lastName", "email", "legalEntities", "attributes"},
    "categories": {
        "id", "code", "name", "description", "slug", "ecn", "parentId", "position",
        "published", "validity",
    },
    "products": {"id", "code", "name", "categories"},
}  # fmt: skip


def _check_legal_entity(data: dict, default_language: str) -> dict[str, Any]:
    return _present({"name": _text(data, "name", 255)})


def _check_customer(data: dict, default_language: str) -> dict[str, Any]:
    attributes = data.get("attributes")
    if "attributes" in data and not isinstance(attributes, dict | None):
        raise RecordError("attributes must be an object.")
    values = {
        "first_name": _text(data, "firstName", 255),
        "last_name": _text(data, "lastName", 255),
        "email": _text(data, "email", 320),
        "attributes": (attributes or {}) if "attributes" in data else None,
    }
    return _present(values)


def _check_category(data: dict, default_language: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": _text(data, "code", 255),
        "name": _localized(data, "name", default_language),
        "description": _localized(data, "description", default_language),
        "slug": _localized(data, "slug", default_language),
    }
    if "ecn" in data:
        values["ecn"] = _ids(data, "ecn")
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int):
            raise RecordError("position must be a whole number.")
        if not -(2**31) <= position < 2**31:
            raise RecordError("position is out of range.")
        values["position"] = position
    if "published" in data:
        if not isinstance(data["published"], bool):
            raise RecordError("published must be true or false.")
        values["published"] = data["published"]
    if "validity" in data:
        validity = data["validity"] or {}
        if not isinstance(validity, dict) or set(validity) - {"from", "to"}:
            raise RecordError('validity must be {"from": ..., "to": ...}.')
        values["valid_from"] = _instant(validity.get("from"), "validity.from")
        values["valid_to"] = _instant(validity.get("to"), "validity.to")
        if (
            values["valid_from"]
            and values["valid_to"]
            and values["valid_from"] >= values["valid_to"]
        ):
            raise RecordError("validity.from must be before validity.to.")
    if "parentId" in data:
        parent = data["parentId"]
        if parent is not None and (not isinstance(parent, str) or not parent):
            raise RecordError("parentId must be a category id or null.")
        if parent == data["id"]:
            raise RecordError("parentId must not be the category itself.")
    return _present(values)


def _check_product(data: dict, default_language: str) -> dict[str, Any]:
    return _present(
        {"code": _text(data, "code", 255), "name": _localized(data, "name", default_language)}
    )


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


_CHECKS = {
    "legalEntities": _check_legal_entity,
    "customers": _check_customer,
    "categories": _check_category,
    "products": _check_product,
}
_MODELS: dict[str, type[models.Model]] = {
    "legalEntities": LegalEntity,
    "customers": Customer,
    "categories": Category,
    "products": Product,
}


@dataclass
class _Row:
    """A checked record: its id, column values, and its references when it gives them."""

    record: DirectoryRecord
    external_id: str
    values: dict[str, Any]
    references: list[str] | None = None
    parent: str | None = None
    has_parent: bool = False
    pk: int | None = None


def _check(record: DirectoryRecord, default_language: str, report: ImportReport) -> _Row:
    if not record.kind:
        raise RecordError(str(record.data))
    data = record.data
    if not isinstance(data, dict):
        raise RecordError("a record must be an object.")
    external_id = _id(data)
    problem = unstorable_text(data)
    if problem:
        raise RecordError(f"it contains {problem}.")
    values = _CHECKS[record.kind](data, default_language)
    for key in set(data) - _KNOWN[record.kind]:
        report.ignored_keys[f"{record.kind}.{key}"] += 1
    row = _Row(record=record, external_id=external_id, values=values)
    if record.kind == "customers":
        row.references = _ids(data, "legalEntities")
    elif record.kind == "products":
        row.references = _ids(data, "categories")
    elif record.kind == "categories" and "parentId" in data:
        row.has_parent, row.parent = True, data["parentId"]
    return row


# --- writing -----------------------------------------------------------------------------------


def directory_import(
    *,
    tenant: Tenant,
    records: Iterable[DirectoryRecord],
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Upsert the records into the tenant's directory; returns what was written and skipped."""
    report = ImportReport()
    progress = progress or (lambda n: None)
    by_kind: dict[str, list[_Row]] = {kind: [] for kind in KINDS}
    for record in records:
        try:
            row = _check(record, tenant.default_language, report)
        except RecordError as exc:
            report.skip(record, str(exc))
            progress(1)
            continue
        by_kind[record.kind].append(row)
    for kind in KINDS:
        rows = _last_wins(by_kind[kind], progress)
        if kind == "categories":
            rows = _tree_order(tenant, rows, report, progress)
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            _write_batch(tenant, kind, batch, report)
            progress(len(batch))
    return report


def _last_wins(rows: list[_Row], progress: Callable[[int], Any]) -> list[_Row]:
    """One row per id: a later record of the same id replaces an earlier one."""
    latest: dict[str, _Row] = {}
    for row in rows:
        if row.external_id in latest:
            progress(1)
        latest[row.external_id] = row
    return list(latest.values())


def _tree_order(tenant: Tenant, rows: list[_Row], report: ImportReport, progress) -> list[_Row]:
    """Categories with parents before children; a missing parent or a cycle skips a record.

    A category's parent is the file's `parentId` once that record is accepted, else the
    stored parent. Records are accepted in file order: when a cycle appears, the record of
    the cycle that comes last in the file is skipped, and a category whose parent is
    skipped (and not stored already) is skipped too.
    """
    stored = dict(
        Category.objects.filter(tenant=tenant).values_list("external_id", "parent__external_id")
    )
    in_file = {row.external_id: row for row in rows}
    accepted: dict[str, bool] = {}  # file category → accepted (True) or skipped (False)

    def parent_of(node: str) -> str | None:
        row = in_file.get(node)
        if row is not None and row.has_parent and accepted.get(node) is not False:
            return row.parent
        return stored.get(node)

    def refuse(node: str, message: str) -> None:
        accepted[node] = False
        report.skip(in_file[node].record, message)
        progress(1)

    ordered: list[_Row] = []
    for row in rows:
        while row.external_id not in accepted:
            # Walk up to a root or an accepted category; a cycle or a hole refuses one record.
            path: list[str] = []
            node: str | None = row.external_id
            while node is not None and not accepted.get(node, False):
                if node in path:
                    cycle = path[path.index(node) :]
                    undecided = [n for n in cycle if n in in_file and n not in accepted]
                    victim = max(undecided, key=lambda n: in_file[n].record.index)
                    turn = cycle.index(victim)
                    loop = [*cycle[turn:], *cycle[:turn], victim]
                    refuse(victim, f"parentId makes a cycle: {' → '.join(loop)}.")
                    break
                if node not in in_file and node not in stored:
                    refuse(
                        path[-1],
                        f"parentId {node} is not a category of this file or of the tenant.",
                    )
                    break
                path.append(node)
                node = parent_of(node)
            else:
                # Decide from the top down, so that parents come before their children.
                for member in reversed(path):
                    if member not in in_file or member in accepted:
                        continue
                    parent = parent_of(member)
                    if parent is None or accepted.get(parent, False) or parent in stored:
                        accepted[member] = True
                        ordered.append(in_file[member])
                    else:
                        refuse(member, f"its parent {parent} was skipped.")
    return ordered


def _write_batch(tenant: Tenant, kind: str, rows: list[_Row], report: ImportReport) -> None:
    """Write one batch in one transaction; if the database refuses it, record by record."""
    rows = _resolve_references(tenant, kind, rows, report)
    if not rows:
        return
    try:
        with transaction.atomic():
            _write_rows(tenant, kind, rows)
        report.written[kind] += len(rows)
        return
    except (DatabaseError, RecordError):
        pass
    for row in rows:
        try:
            with transaction.atomic():
                _write_rows(tenant, kind, [row])
            report.written[kind] += 1
        except RecordError as exc:
            report.skip(row.record, str(exc))
        except DatabaseError as exc:
            report.skip(row.record, f"the database refused it: {str(exc).strip()}")


def _resolve_references(
    tenant: Tenant, kind: str, rows: list[_Row], report: ImportReport
) -> list[_Row]:
    """Check that a batch's references exist; rows naming unknown ones are skipped."""
    if kind not in ("customers", "products"):
        return rows
    target = LegalEntity if kind == "customers" else Category
    wanted = {ref for row in rows for ref in row.references or ()}
    known = set(_pks_by_external_id(tenant, target, wanted))
    noun = "legal entit(ies)" if kind == "customers" else "categor(ies)"
    kept = []
    for row in rows:
        missing = [ref for ref in row.references or () if ref not in known]
        if missing:
            key = "legalEntities" if kind == "customers" else "categories"
            report.skip(row.record, f"{key}: unknown {noun} {', '.join(missing)}.")
        else:
            kept.append(row)
    return kept


def _write_rows(tenant: Tenant, kind: str, rows: list[_Row]) -> None:
    model = _MODELS[kind]
    # Rows giving the same keys are upserted together: a key left out is left alone.
    groups: dict[frozenset[str], list[_Row]] = {}
    for row in rows:
        groups.setdefault(frozenset(row.values), []).append(row)
    for columns, group in groups.items():
        objects = [model(tenant=tenant, external_id=row.external_id, **row.values) for row in group]
        model.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["tenant", "external_id"],
            update_fields=sorted(columns) or ["external_id"],
        )
        for row, obj in zip(group, objects, strict=True):
            row.pk = obj.pk
    if any(row.pk is None for row in rows):  # a backend that returns no ids from upserts
        pks = dict(
            model.objects.filter(
                tenant=tenant, external_id__in=[row.external_id for row in rows]
            ).values_list("external_id", "pk")
        )
        for row in rows:
            row.pk = pks[row.external_id]
    if kind == "categories":
        _write_parents(tenant, rows)
    elif kind == "customers":
        _write_memberships(
            tenant, rows, CustomerLegalEntity, "customer", "legal_entity", LegalEntity
        )
    elif kind == "products":
        _write_memberships(tenant, rows, ProductCategory, "product", "category", Category)


def _write_parents(tenant: Tenant, rows: list[_Row]) -> None:
    changing = [row for row in rows if row.has_parent]
    if not changing:
        return
    parents = _pks_by_external_id(tenant, Category, (row.parent for row in changing if row.parent))
    missing = [row.parent for row in changing if row.parent and row.parent not in parents]
    if missing:
        raise RecordError(f"its parent {missing[0]} was not written.")
    updates = [
        Category(pk=row.pk, parent_id=parents[row.parent] if row.parent else None)
        for row in changing
    ]
    Category.objects.bulk_update(updates, ["parent"])


def _write_memberships(
    tenant: Tenant,
    rows: list[_Row],
    through: type[models.Model],
    owner: str,
    member: str,
    member_model: type[models.Model],
) -> None:
    """Make the memberships of the rows that list them (categories, legal entities) be those.

    Only the difference is written, so re-importing an unchanged file writes no memberships.
    """
    listing = [row for row in rows if row.references is not None]
    if not listing:
        return
    wanted_ids = {ref for row in listing for ref in row.references}
    pks = _pks_by_external_id(tenant, member_model, wanted_ids)
    missing = wanted_ids - set(pks)
    if missing:
        raise RecordError(f"unknown id(s) {', '.join(sorted(missing))}.")
    wanted = {(row.pk, pks[ref]) for row in listing for ref in row.references}
    existing = {
        (owner_pk, member_pk): pk
        for pk, owner_pk, member_pk in through.objects.filter(
            tenant=tenant, **{f"{owner}_id__in": [row.pk for row in listing]}
        ).values_list("pk", f"{owner}_id", f"{member}_id")
    }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    for start in range(0, len(stale), IDS_PER_LOOKUP):
        through.objects.filter(tenant=tenant, pk__in=stale[start : start + IDS_PER_LOOKUP]).delete()
    _insert_pairs(tenant, through, owner, member, sorted(wanted - set(existing)))


def _insert_pairs(
    tenant: Tenant,
    through: type[models.Model],
    owner: str,
    member: str,
    pairs: list[tuple[int, int]],
) -> None:
    """Insert (owner pk, member pk) rows of a membership table."""
    if not pairs:
        return
    if connection.vendor == "postgresql":
        # Two array parameters instead of three per row, and no model instances: this is
        # most of an import's rows, and the ORM's per-row cost dominated its time.
        table = connection.ops.quote_name(through._meta.db_table)
        columns = ", ".join(
            connection.ops.quote_name(through._meta.get_field(name).column)
            for name in ("tenant", owner, member)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                "SELECT %s, pair.o, pair.m FROM unnest(%s::bigint[], %s::bigint[]) AS pair(o, m)",
                [tenant.pk, [o for o, _ in pairs], [m for _, m in pairs]],
            )
        return
    through.objects.bulk_create(
        batch_size=MEMBERSHIPS_PER_STATEMENT,
        objs=[
            through(tenant=tenant, **{f"{owner}_id": owner_pk, f"{member}_id": member_pk})
            for owner_pk, member_pk in pairs
        ],
    )


def _pks_by_external_id(
    tenant: Tenant, model: type[models.Model], external_ids: Iterable[str]
) -> dict[str, int]:
    """external id → pk of those of the tenant's rows that exist, in a few lookups."""
    wanted = sorted(set(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), IDS_PER_LOOKUP):
        chunk = wanted[start : start + IDS_PER_LOOKUP]
        found.update(
            model.objects.filter(tenant=tenant, external_id__in=chunk).values_list(
                "external_id", "pk"
            )
        )
    return found
