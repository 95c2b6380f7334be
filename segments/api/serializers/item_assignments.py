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
from segments.api.serializers.segments import StrictCharField
from segments.choices import ItemType
from segments.documents import item_assignment_document
from segments.models import ItemAssignment
from segments.services.item_assignments import ItemAssignmentInput
from segmentservice.api.serializers import MetadataResponseSerializer


class ItemAssignmentUpsertInputSerializer(AssignmentUpsertInputSerializer):
    """The body of `PUT .../items/{type}/{itemId}`."""

    ignored_fields = ("segmentId", "item", "type")

    def assignment_input(
        self, item_id: str, data: dict[str, Any] | None = None
    ) -> ItemAssignmentInput:
        """The service's input for the item the path names (`data`: as write_fields)."""
        return ItemAssignmentInput(item_id=item_id, fields=self.write_fields(data))


class ItemAssignmentBulkInputSerializer(ItemAssignmentUpsertInputSerializer):
    """One element of `PUT .../items/{type}/bulk`: the upsert body plus the item's id."""

    id = StrictCharField(max_length=64, help_text="The id of an existing product or category.")

    def bulk_input(self, data: dict[str, Any]) -> ItemAssignmentInput:
        """The service's input for an element's validated data."""
        return self.assignment_input(data["id"], data)


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
