"""Item assignment inputs, and the assignment as the API shows it.

    {"segmentId": "seg1",
     "item": {"id": "12468504", "code": "123", "name": {"en": "Hammer"}},
     "type": "PRODUCT",
     "metadata": {"createdAt": "...", "modifiedAt": "...", "version": 1}}

`item.name` follows Accept-Language (a map, or a plain string); `mixins` only when set.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from segments.api.serializers.assignments import AssignmentUpsertInputSerializer
from segments.api.serializers.segments import StrictCharField, metadata_document
from segments.choices import ItemType
from segments.models import ItemAssignment
from segments.services.item_assignments import ItemAssignmentInput
from segmentservice.api.languages import localize
from segmentservice.api.serializers import MetadataResponseSerializer


class ItemAssignmentUpsertInputSerializer(AssignmentUpsertInputSerializer):
    """The body of `PUT .../items/{type}/{itemId}`."""

    ignored_fields = ("segmentId", "item", "type")

    def assignment_input(self, item_id: str) -> ItemAssignmentInput:
        """The service's input for the item the path names."""
        return ItemAssignmentInput(item_id=item_id, fields=self.write_fields())


class ItemAssignmentBulkInputSerializer(ItemAssignmentUpsertInputSerializer):
    """One element of `PUT .../items/{type}/bulk`: the upsert body plus the item's id."""

    id = StrictCharField(max_length=64, help_text="The id of an existing product or category.")

    def bulk_input(self) -> ItemAssignmentInput:
        """The service's input for this element."""
        return self.assignment_input(self.validated_data["id"])


def item_id_input(element: Any) -> str | None:
    """One element of `DELETE .../items/{type}/bulk` (a non-empty string), or None if it is not."""
    if isinstance(element, str) and element.strip():
        return element
    return None


# --- Representation ---------------------------------------------------------------------------


class ItemSummarySerializer(serializers.Serializer):
    """The assigned product or category."""

    id = serializers.CharField()
    code = serializers.CharField()
    name = serializers.JSONField(
        required=False, help_text="Map language → text, or text (Accept-Language)."
    )


class ItemAssignmentSerializer(serializers.Serializer):
    """An item assignment as the API shows it."""

    segmentId = serializers.CharField(read_only=True)
    item = ItemSummarySerializer(read_only=True)
    type = serializers.ChoiceField(choices=ItemType.choices, read_only=True)
    # Not read_only, which the schema generator would mark required: `mixins` only when set.
    mixins = serializers.DictField(required=False)
    metadata = MetadataResponseSerializer(read_only=True)

    def to_representation(self, instance: ItemAssignment) -> dict[str, Any]:
        """Render directly, as lists do."""
        return item_assignment_document(
            instance,
            languages=self.context.get("languages"),
            default_language=self.context.get("default_language", "en"),
        )


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
