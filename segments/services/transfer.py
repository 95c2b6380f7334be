"""Export and import of segments with their assignments, in the API's own JSON shapes.

The document (`manage.py export_segments`, the admin's JSON export)::

    {"format": "customer-segments/v1", "tenant": "acme", "exportedAt": "2024-05-14T12:00:00.000Z",
     "segments": [
        {"segment":   {...GET /segments/{id}...},
         "customers": [{...GET /segments/{id}/customers element...}],
         "items":     [{...GET /segments/{id}/items element...}],
         "groups":    [{...GET /segments/{id}/groups element...}]}]}

`groups` is written only for a segment that has group assignments (SPEC §11), so the
documents of segments without any read as before.

Importing it (`manage.py import_segments`) upserts every segment through `segment_upsert`
and its assignments through the bulk assignment services, so versions, timestamps,
validation and events are those of the API. Each segment is one record: it is written
whole, in one transaction, or reported with its position and skipped. Importing never
deletes, and importing the same document twice changes nothing but versions.
A plain list of segment documents (what `GET /segments` answers) imports too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from segments.choices import AssignmentType, ItemType, SegmentStatus
from segments.documents import (
    customer_assignment_document,
    group_assignment_document,
    item_assignment_document,
    segment_document,
)
from segments.models import (
    EXTERNAL_ID_MAX,
    CustomerAssignment,
    Event,
    GroupAssignment,
    ItemAssignment,
    Segment,
)
from segments.services.assignments import WriteFields
from segments.services.customer_assignments import (
    CustomerAssignmentInput,
    customer_assignments_bulk_upsert,
)
from segments.services.group_assignments import (
    GroupAssignmentInput,
    group_assignments_bulk_upsert,
)
from segments.services.item_assignments import ItemAssignmentInput, item_assignments_bulk_upsert
from segments.services.segments import SegmentFields, segment_upsert
from segmentservice.db import tables_analyze
from segmentservice.exceptions import ServiceError, ValidationFailed
from segmentservice.formats import format_instant, localized_input, parse_instant
from tenants.models import Tenant

FORMAT = "customer-segments/v1"
EXPORT_CHUNK = 200  # segments per round of assignment queries
ASSIGNMENT_CHUNK = 1000  # assignments per bulk service call
# metadata keys the server owns; an imported document's are dropped (they describe the source).
SERVER_METADATA = ("createdAt", "modifiedAt", "version")
# The members of a segment document (GET /segments/{id}).
SEGMENT_FIELDS = frozenset(
    ("id", "name", "description", "validity", "status", "siteCode", "mixins", "metadata")
)

Progress = Callable[[int], None]


# --- export -------------------------------------------------------------------------------------


def segments_export(
    *, tenant: Tenant, queryset: Iterable[Segment] | None = None, progress: Progress | None = None
) -> Iterator[dict[str, Any]]:
    """One `{"segment", "customers", "items"}` record per segment, in id order.

    Four queries per `EXPORT_CHUNK` segments, whatever their assignments number.
    """
    source = queryset if queryset is not None else Segment.objects.filter(tenant=tenant)
    segments = source.filter(tenant=tenant).order_by("external_id")
    chunk: list[Segment] = []
    for segment in segments.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(segment)
        if len(chunk) == EXPORT_CHUNK:
            yield from _export_chunk(tenant, chunk)
            if progress:
                progress(len(chunk))
            chunk = []
    if chunk:
        yield from _export_chunk(tenant, chunk)
        if progress:
            progress(len(chunk))


def _export_chunk(tenant: Tenant, segments: list[Segment]) -> Iterator[dict[str, Any]]:
    by_pk = {segment.pk: segment for segment in segments}
    customers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        CustomerAssignment.objects.filter(tenant=tenant, segment__in=list(by_pk))
        .select_related("customer", "legal_entity")
        .order_by("segment_id", "customer__external_id", "legal_entity__external_id")
    )
    for row in rows:
        customers[row.segment_id].append(customer_assignment_document(row))
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        ItemAssignment.objects.filter(tenant=tenant, segment__in=list(by_pk))
        .select_related("product", "category")
        .order_by("segment_id", "type", "product__external_id", "category__external_id")
    )
    for row in rows:
        row.segment = by_pk[row.segment_id]
        items[row.segment_id].append(
            item_assignment_document(row, languages=None, default_language=tenant.default_language)
        )
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        GroupAssignment.objects.filter(tenant=tenant, segment__in=list(by_pk))
        .select_related("group")
        .order_by("segment_id", "group__external_id")
    ):
        row.segment = by_pk[row.segment_id]
        groups[row.segment_id].append(
            group_assignment_document(row, languages=None, default_language=tenant.default_language)
        )
    for segment in segments:
        record = {
            "segment": segment_document(
                segment, languages=None, default_language=tenant.default_language
            ),
            "customers": customers[segment.pk],
            "items": items[segment.pk],
        }
        if groups[segment.pk]:
            record["groups"] = groups[segment.pk]
        yield record


def export_json_chunks(
    *, tenant: Tenant, queryset: Iterable[Segment] | None = None, progress: Progress | None = None
) -> Iterator[str]:
    """The export document as JSON text, piece by piece (for files and streamed responses)."""
    head = {"format": FORMAT, "tenant": tenant.name, "exportedAt": format_instant(timezone.now())}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "segments": ['
    for position, record in enumerate(
        segments_export(tenant=tenant, queryset=queryset, progress=progress)
    ):
        yield ("," if position else "") + "\n  " + json.dumps(record, ensure_ascii=False)
    yield "\n]}\n"


# --- import -------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, and which records it skipped and why."""

    created: int = 0
    updated: int = 0
    customers: int = 0
    items: int = 0
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (position, id, why)

    @property
    def segments(self) -> int:
        """Segments written."""
        return self.created + self.updated


def import_records(document: Any) -> list[Any]:
    """The records of a document; raises ValidationFailed when it is not one we know."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("segments"), list):
        fmt = document.get("format", FORMAT)
        if fmt != FORMAT:
            raise ValidationFailed(f"Unknown format {fmt!r}; this service reads {FORMAT!r}.")
        return document["segments"]
    raise ValidationFailed(
        'Expected {"segments": [...]} (as export_segments writes) or a list of segments.'
    )


def segments_import(
    *, tenant: Tenant, records: list[Any], progress: Progress | None = None
) -> ImportReport:
    """Upsert each record (a segment and its assignments) in its own transaction."""
    report = ImportReport()
    for position, record in enumerate(records, start=1):
        segment_id = _record_id(record)
        try:
            with transaction.atomic():
                created, customers, items = _import_record(tenant, record)
        except ServiceError as error:
            report.skipped.append((position, segment_id, error.message))
        else:
            report.created += created
            report.updated += not created
            report.customers += customers
            report.items += items
        if progress:
            progress(1)
    tables_analyze(
        [Segment, CustomerAssignment, ItemAssignment, Event],
        rows=report.created + report.updated + report.customers + report.items,
    )
    return report


def _record_id(record: Any) -> str:
    segment = record.get("segment", record) if isinstance(record, dict) else None
    value = segment.get("id") if isinstance(segment, dict) else None
    return value if isinstance(value, str) else "?"


def _import_record(tenant: Tenant, record: Any) -> tuple[bool, int, int]:
    if not isinstance(record, dict):
        raise ValidationFailed("A record must be a JSON object.")
    if "segment" in record:
        unknown = sorted(set(record) - {"segment", "customers", "items", "groups"})
        if unknown:
            raise ValidationFailed(f"Unknown record field(s): {', '.join(unknown)}.")
        segment, customers, items, groups = (
            record["segment"],
            record.get("customers") or [],
            record.get("items") or [],
            record.get("groups") or [],
        )
    else:
        segment, customers, items, groups = record, [], [], []
    if not isinstance(segment, dict) or not isinstance(segment.get("id"), str):
        raise ValidationFailed("A segment needs an id.")
    if not all(isinstance(part, list) for part in (customers, items, groups)):
        raise ValidationFailed("customers, items and groups must be lists.")
    segment_id = segment["id"]
    body = _without_server_metadata(segment)
    created = _upsert_segment(tenant, segment_id, body)
    _import_customers(tenant, segment_id, customers)
    _import_items(tenant, segment_id, items)
    _import_groups(tenant, segment_id, groups)
    return created, len(customers), len(items)


def _upsert_segment(tenant: Tenant, segment_id: str, body: dict[str, Any]) -> bool:
    # Without a version to check: it was the source's.
    fields = _segment_fields(tenant, body)
    return segment_upsert(tenant=tenant, segment_id=segment_id, fields=fields).created


def _segment_fields(tenant: Tenant, body: dict[str, Any]) -> SegmentFields:
    """The content of an exported segment document; `segment_upsert` checks its rules."""
    problems = [f"{key}: Unknown field." for key in body if key not in SEGMENT_FIELDS]
    # A text in one language (a plain string) sets that language and keeps the others.
    merge_languages: set[str] = set()

    def localized(field: str) -> dict[str, str]:
        try:
            value = localized_input(
                body[field],
                field=field,
                language=None,
                allowed=tenant.languages,
                default=tenant.default_language,
            )
        except ValidationFailed as error:
            problems.append(error.message)
            return {}
        if value.single_language:
            merge_languages.add(field)
        return value.values

    def mapping(where: str, value: Any, *, texts: bool = False) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict) or (
            texts and not all(isinstance(text, str) for text in value.values())
        ):
            problems.append(f"{where}: must be an object{' of strings' if texts else ''}.")
            return {}
        return value

    if "name" not in body:
        problems.append("name: This field is required.")
    name = localized("name") if "name" in body else {}
    description = localized("description") if body.get("description") is not None else {}
    site_code = body.get("siteCode")
    if "siteCode" not in body:
        problems.append("siteCode: This field is required.")
    elif not isinstance(site_code, str) or len(site_code) > EXTERNAL_ID_MAX:
        problems.append(f"siteCode: must be a string of at most {EXTERNAL_ID_MAX} characters.")
    validity = mapping("validity", body.get("validity"))
    ends = {}
    for end in ("from", "to"):
        text = validity.get(end)
        ends[end] = parse_instant(text)
        if text is not None and ends[end] is None:
            problems.append(f"validity.{end}: must be an ISO 8601 instant.")
    mixins = mapping("mixins", body.get("mixins"))
    metadata = mapping("metadata", body.get("metadata"))
    metadata_mixins = mapping("metadata.mixins", metadata.get("mixins"), texts=True)
    if problems:
        raise ValidationFailed(" ".join(problems))
    return SegmentFields(
        name=name,
        description=description,
        site_code=site_code,
        status=body.get("status", SegmentStatus.INACTIVE),
        valid_from=ends["from"],
        valid_to=ends["to"],
        mixins=mixins,
        metadata_mixins=metadata_mixins,
        merge_languages=frozenset(merge_languages),
    )


def _without_server_metadata(document: dict[str, Any]) -> dict[str, Any]:
    body = dict(document)
    metadata = body.pop("metadata", None)
    if isinstance(metadata, dict):
        kept = {k: v for k, v in metadata.items() if k not in SERVER_METADATA}
        if kept:
            body["metadata"] = kept
    return body


def _write_fields(element: dict[str, Any], where: str) -> WriteFields:
    mixins = element.get("mixins") or {}
    metadata = element.get("metadata") or {}
    if not isinstance(mixins, dict) or not isinstance(metadata, dict):
        raise ValidationFailed(f"{where}: mixins and metadata must be objects.")
    metadata_mixins = metadata.get("mixins") or {}
    if not isinstance(metadata_mixins, dict):
        raise ValidationFailed(f"{where}: metadata.mixins must be an object.")
    return WriteFields(mixins=mixins, metadata_mixins=metadata_mixins, version=None)


def _import_customers(tenant: Tenant, segment_id: str, elements: list[Any]) -> None:
    automatic: list[tuple[str, str | None]] = []
    inputs: list[CustomerAssignmentInput] = []
    for position, element in enumerate(elements, start=1):
        where = f"customer assignment {position}"
        customer = element.get("customer") if isinstance(element, dict) else None
        if not isinstance(customer, dict) or not isinstance(customer.get("id"), str):
            raise ValidationFailed(f"{where}: needs customer.id.")
        legal_entity = element.get("legalEntity")
        legal_entity_id = legal_entity.get("id") if isinstance(legal_entity, dict) else None
        inputs.append(
            CustomerAssignmentInput(
                customer_id=customer["id"],
                legal_entity_id=legal_entity_id,
                fields=_write_fields(element, where),
            )
        )
        if element.get("assignmentType") == AssignmentType.AUTOMATIC:
            automatic.append((customer["id"], legal_entity_id))
    for start in range(0, len(inputs), ASSIGNMENT_CHUNK):
        results = customer_assignments_bulk_upsert(
            tenant=tenant,
            segment_id=segment_id,
            elements=list(enumerate(inputs[start : start + ASSIGNMENT_CHUNK], start=1)),
        )
        for result in results:
            result_index = start + result.index
            if result.code >= 300:
                raise ValidationFailed(f"customer assignment {result_index}: {result.message}")
    if automatic:
        _mark_automatic(tenant, segment_id, automatic)


def _mark_automatic(tenant: Tenant, segment_id: str, keys: list[tuple[str, str | None]]) -> None:
    # The API writes MANUAL assignments only; an export keeps rule-made ones AUTOMATIC, and
    # so must its import, or a round trip would change them.
    rows = CustomerAssignment.objects.filter(
        tenant=tenant,
        segment__tenant=tenant,
        segment__external_id=segment_id,
        customer__external_id__in={customer_id for customer_id, _ in keys},
    ).select_related("customer", "legal_entity")
    wanted = set(keys)
    pks = [
        row.pk
        for row in rows
        if (row.customer.external_id, row.legal_entity.external_id if row.legal_entity else None)
        in wanted
    ]
    CustomerAssignment.objects.filter(tenant=tenant, pk__in=pks).update(
        assignment_type=AssignmentType.AUTOMATIC
    )


def _import_items(tenant: Tenant, segment_id: str, elements: list[Any]) -> None:
    by_type: dict[ItemType, list[tuple[int, ItemAssignmentInput]]] = defaultdict(list)
    for position, element in enumerate(elements, start=1):
        where = f"item assignment {position}"
        item = element.get("item") if isinstance(element, dict) else None
        item_type = str(element.get("type", "")).upper() if isinstance(element, dict) else ""
        if item_type not in ItemType.values:
            raise ValidationFailed(f"{where}: type must be PRODUCT or CATEGORY.")
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ValidationFailed(f"{where}: needs item.id.")
        by_type[ItemType(item_type)].append(
            (
                position,
                ItemAssignmentInput(item_id=item["id"], fields=_write_fields(element, where)),
            )
        )
    for item_type, numbered in by_type.items():
        for start in range(0, len(numbered), ASSIGNMENT_CHUNK):
            chunk = numbered[start : start + ASSIGNMENT_CHUNK]
            results = item_assignments_bulk_upsert(
                tenant=tenant,
                segment_id=segment_id,
                type=item_type,
                elements=list(enumerate((element for _, element in chunk), start=1)),
            )
            for result in results:
                if result.code >= 300:
                    position = chunk[result.index - 1][0]
                    raise ValidationFailed(f"item assignment {position}: {result.message}")


def _import_groups(tenant: Tenant, segment_id: str, elements: list[Any]) -> None:
    inputs: list[GroupAssignmentInput] = []
    for position, element in enumerate(elements, start=1):
        where = f"group assignment {position}"
        group = element.get("group") if isinstance(element, dict) else None
        if not isinstance(group, dict) or not isinstance(group.get("id"), str):
            raise ValidationFailed(f"{where}: needs group.id.")
        inputs.append(
            GroupAssignmentInput(group_id=group["id"], fields=_write_fields(element, where))
        )
    for start in range(0, len(inputs), ASSIGNMENT_CHUNK):
        results = group_assignments_bulk_upsert(
            tenant=tenant,
            segment_id=segment_id,
            elements=list(enumerate(inputs[start : start + ASSIGNMENT_CHUNK], start=1)),
        )
        for result in results:
            if result.code >= 300:
                raise ValidationFailed(f"group assignment {start + result.index}: {result.message}")
