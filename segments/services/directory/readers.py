"""Reading a directory file: a JSON document, JSON Lines or CSV, into `DirectoryRecord`s."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from segments.services.directory.records import (
    KIND_ALIASES,
    KINDS,
    LIST_COLUMNS,
    DirectoryFileError,
    DirectoryRecord,
)


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
            "The JSON document must be an object with legalEntities, customers, groups, "
            "categories and/or products."
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
            if cell is None or (cell == "" and column not in ("parentId", "legalEntityId")):
                continue
            _put(data, column, _csv_value(column, cell))
        else:
            yield _typed_record(data, position, line)


def _csv_value(column: str, cell: str) -> Any:
    if column in LIST_COLUMNS:
        return [part.strip() for part in cell.split("|") if part.strip()]
    if column in ("parentId", "legalEntityId"):
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
            "", position, "type must be legalEntity, customer, group, category or product", index
        )
    return DirectoryRecord(kind, position, data, index)
