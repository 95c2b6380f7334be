"""Checking one directory record: its shape, ids, texts and instants, before any write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from segments.choices import GroupUserType
from segments.models import (
    EXTERNAL_ID_MAX,
    Category,
    Customer,
    Group,
    LegalEntity,
    Product,
)
from segments.services.directory.records import (
    DirectoryRecord,
    ImportReport,
    RecordError,
)
from segmentservice.formats import unstorable_text


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
    "groups": {"id", "name", "userType", "legalEntityId", "members"},
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


def _check_group(data: dict, default_language: str) -> dict[str, Any]:
    values: dict[str, Any] = {"name": _localized(data, "name", default_language)}
    if "userType" in data:
        if data["userType"] not in GroupUserType.values:
            raise RecordError(
                f"userType must be {' or '.join(GroupUserType.values)}, not "
                f"{str(data['userType'])[:40]!r}."
            )
        values["user_type"] = data["userType"]
    if "legalEntityId" in data:
        legal_entity = data["legalEntityId"]
        if legal_entity is not None and (not isinstance(legal_entity, str) or not legal_entity):
            raise RecordError("legalEntityId must be a legal entity id or null.")
    return _present(values)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


_CHECKS = {
    "legalEntities": _check_legal_entity,
    "customers": _check_customer,
    "categories": _check_category,
    "products": _check_product,
    "groups": _check_group,
}
# The model each kind of record is stored in.
KIND_MODELS: dict[str, type[models.Model]] = {
    "legalEntities": LegalEntity,
    "customers": Customer,
    "categories": Category,
    "products": Product,
    "groups": Group,
}


@dataclass
class CheckedRow:
    """A checked record: its id, column values, and its references when it gives them
    (a group's members are its references, its legal entity its `parent`)."""

    record: DirectoryRecord
    external_id: str
    values: dict[str, Any]
    references: list[str] | None = None
    parent: str | None = None
    has_parent: bool = False
    pk: int | None = None


def record_check(
    record: DirectoryRecord, default_language: str, report: ImportReport
) -> CheckedRow:
    """The record checked and turned into column values; raises RecordError naming the problem."""
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
    row = CheckedRow(record=record, external_id=external_id, values=values)
    if record.kind == "customers":
        row.references = _ids(data, "legalEntities")
    elif record.kind == "products":
        row.references = _ids(data, "categories")
    elif record.kind == "categories" and "parentId" in data:
        row.has_parent, row.parent = True, data["parentId"]
    elif record.kind == "groups":
        row.references = _ids(data, "members")
        if "legalEntityId" in data:
            row.has_parent, row.parent = True, data["legalEntityId"]
    return row
