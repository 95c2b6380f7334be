"""The wire form of every stored resource: one home for each shape the service shows.

Plain functions from rows to JSON-ready dicts, used alike by the API responses, the event
payloads, the exports and the admin; they import no API code. The API's output serializers
describe the same shapes for the OpenAPI document, and a test checks that the two agree.

    segment           {"id", "name", "description"?, "validity"?, "status", "siteCode",
                       "mixins"?, "metadata"}
    customer assignm. {"customer", "legalEntity"? (B2B only), "assignmentType", "mixins"?,
                       "metadata"}
    item assignment   {"segmentId", "item": {"id", "code", "name"?}, "type", "mixins"?,
                       "metadata"}
    group assignment  {"segmentId", "group": {"id", "name"?}, "mixins"?, "metadata"}
    category tree     {"id", "parentId"? (not on roots), "code", "name", ..., "position",
                       "published", "isSegmentAssigned", "subcategories"? (not on leaves)}
    metadata          {"createdAt", "modifiedAt", "version", "mixins"?}

Localized fields follow `languages` (see `segmentservice.formats.localize`): None gives
the maps, a list gives the best text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from segments.choices import ItemType
from segments.models import CustomerAssignment, GroupAssignment, ItemAssignment, Segment
from segmentservice.formats import format_instant, localize

if TYPE_CHECKING:
    from segments.selectors.categories import CategoryTreeNode


def validity_document(
    valid_from: datetime | None, valid_to: datetime | None
) -> dict[str, str] | None:
    """`{"from", "to"}` with only the ends that are set, or None when both are open."""
    validity = {}
    if valid_from is not None:
        validity["from"] = format_instant(valid_from)
    if valid_to is not None:
        validity["to"] = format_instant(valid_to)
    return validity or None


def metadata_document(row: Any) -> dict[str, Any]:
    """`metadata` of a Versioned row."""
    metadata: dict[str, Any] = {
        "createdAt": format_instant(row.created_at),
        "modifiedAt": format_instant(row.modified_at),
        "version": row.version,
    }
    if row.metadata_mixins:
        metadata["mixins"] = row.metadata_mixins
    return metadata


def segment_document(
    segment: Segment, *, languages: list[str] | None, default_language: str
) -> dict[str, Any]:
    """The wire form of a segment."""
    document: dict[str, Any] = {
        "id": segment.external_id,
        "name": localize(segment.name, languages, default_language),
    }
    if segment.description:
        document["description"] = localize(segment.description, languages, default_language)
    validity = validity_document(segment.valid_from, segment.valid_to)
    if validity:
        document["validity"] = validity
    document["status"] = segment.status
    document["siteCode"] = segment.site_code
    if segment.mixins:
        document["mixins"] = segment.mixins
    document["metadata"] = metadata_document(segment)
    return document


def customer_assignment_document(row: CustomerAssignment) -> dict[str, Any]:
    """The wire form of a customer assignment (customer and legal entity already joined)."""
    customer = row.customer
    customer_document: dict[str, Any] = {"id": customer.external_id}
    for key, value in (
        ("firstName", customer.first_name),
        ("lastName", customer.last_name),
        ("email", customer.email),
    ):
        if value:
            customer_document[key] = value
    document: dict[str, Any] = {"customer": customer_document}
    if row.legal_entity is not None:
        legal_entity: dict[str, Any] = {"id": row.legal_entity.external_id}
        if row.legal_entity.name:
            legal_entity["name"] = row.legal_entity.name
        document["legalEntity"] = legal_entity
    document["assignmentType"] = row.assignment_type
    if row.mixins:
        document["mixins"] = row.mixins
    document["metadata"] = metadata_document(row)
    return document


def item_assignment_document(
    row: ItemAssignment, *, languages: list[str] | None, default_language: str
) -> dict[str, Any]:
    """The wire form of an item assignment.

    Rows of `item_assignment_list` carry the segment's and the item's columns as
    annotations; other rows (fresh from a write) have them as related objects.
    """
    if hasattr(row, "item_external_id"):
        item_id, code, item_name = row.item_external_id, row.item_code, row.item_name
        segment_id = row.segment_external_id
    else:
        source = row.product if row.type == ItemType.PRODUCT else row.category
        item_id, code, item_name = source.external_id, source.code, source.name
        segment_id = row.segment.external_id
    item: dict[str, Any] = {"id": item_id, "code": code}
    name = localize(item_name, languages, default_language)
    if name is not None:
        item["name"] = name
    document: dict[str, Any] = {
        "segmentId": segment_id,
        "item": item,
        "type": row.type,
    }
    if row.mixins:
        document["mixins"] = row.mixins
    document["metadata"] = metadata_document(row)
    return document


def group_assignment_document(
    row: GroupAssignment, *, languages: list[str] | None, default_language: str
) -> dict[str, Any]:
    """The wire form of a group assignment (segment and group already joined)."""
    group: dict[str, Any] = {"id": row.group.external_id}
    name = localize(row.group.name, languages, default_language)
    if name is not None:
        group["name"] = name
    document: dict[str, Any] = {"segmentId": row.segment.external_id, "group": group}
    if row.mixins:
        document["mixins"] = row.mixins
    document["metadata"] = metadata_document(row)
    return document


def category_tree_document(
    node: CategoryTreeNode, *, languages: list[str] | None, default_language: str
) -> dict[str, Any]:
    """The wire form of a node and, recursively, of its subcategories."""
    category = node.category
    document: dict[str, Any] = {"id": category.external_id}
    if node.parent_external_id is not None:
        document["parentId"] = node.parent_external_id
    document["code"] = category.code
    name = localize(category.name, languages, default_language)
    document["name"] = name if name is not None else ""
    for key, values in (
        ("localizedDescription", category.description),
        ("localizedSlug", category.slug),
    ):
        if values:
            document[key] = localize(values, languages, default_language)
    if category.ecn:
        document["ecn"] = list(category.ecn)
    validity = validity_document(category.valid_from, category.valid_to)
    if validity:
        document["validity"] = validity
    document["position"] = category.position
    document["published"] = category.published
    document["isSegmentAssigned"] = node.is_segment_assigned
    if node.subcategories:
        document["subcategories"] = [
            category_tree_document(child, languages=languages, default_language=default_language)
            for child in node.subcategories
        ]
    return document
