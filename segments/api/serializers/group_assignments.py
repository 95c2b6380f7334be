"""Group assignment inputs, and the assignment as the API shows it.

    {"segmentId": "seg1",
     "group": {"id": "vip-buyers", "name": {"en": "VIP buyers"}},
     "metadata": {"createdAt": "...", "modifiedAt": "...", "version": 1}}

`group.name` follows Accept-Language (a map, or a plain string); `mixins` only when set.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from segments.api.serializers.assignments import AssignmentUpsertInputSerializer
from segments.documents import group_assignment_document
from segments.models import GroupAssignment
from segments.services.group_assignments import GroupAssignmentInput
from segmentservice.api.serializers import MetadataResponseSerializer


class GroupAssignmentUpsertInputSerializer(AssignmentUpsertInputSerializer):
    """The body of `PUT .../groups/{groupId}`: `{"mixins", "metadata"}`."""

    ignored_fields = ("segmentId", "group")

    def assignment_input(self, group_id: str) -> GroupAssignmentInput:
        """The service's input for the group the path names."""
        return GroupAssignmentInput(group_id=group_id, fields=self.write_fields())


# --- Representation ---------------------------------------------------------------------------


class GroupSummarySerializer(serializers.Serializer):
    """The assigned group."""

    id = serializers.CharField()
    name = serializers.JSONField(
        required=False, help_text="Map language → text, or text (Accept-Language)."
    )


class GroupAssignmentSerializer(serializers.Serializer):
    """A group assignment as the API shows it."""

    segmentId = serializers.CharField(read_only=True)
    group = GroupSummarySerializer(read_only=True)
    # Not read_only, which the schema generator would mark required: `mixins` only when set.
    mixins = serializers.DictField(required=False)
    metadata = MetadataResponseSerializer(read_only=True)

    def to_representation(self, instance: GroupAssignment) -> dict[str, Any]:
        """Render directly, as lists do."""
        return group_assignment_document(
            instance,
            languages=self.context.get("languages"),
            default_language=self.context.get("default_language", "en"),
        )
