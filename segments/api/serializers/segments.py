"""Segment representation (and, later, input) serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from segments.choices import SegmentStatus
from segments.models import Segment
from segmentservice.api.languages import localize
from segmentservice.api.serializers import (
    MetadataResponseSerializer,
    ValidityRepresentationSerializer,
)
from segmentservice.api.timestamps import format_instant


def validity_document(valid_from, valid_to) -> dict[str, str] | None:
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


class SegmentSerializer(serializers.Serializer):
    """A segment as the API shows it; localized fields follow the `languages` context."""

    id = serializers.CharField(read_only=True)
    name = serializers.JSONField(
        read_only=True, help_text="Map language → text, or text (Accept-Language)."
    )
    description = serializers.JSONField(read_only=True, required=False)
    validity = ValidityRepresentationSerializer(read_only=True, required=False)
    status = serializers.ChoiceField(choices=SegmentStatus.choices, read_only=True)
    siteCode = serializers.CharField(read_only=True)
    mixins = serializers.DictField(read_only=True, required=False)
    metadata = MetadataResponseSerializer(read_only=True)

    def to_representation(self, instance: Segment) -> dict[str, Any]:
        """Render directly; this runs for every row of every list, so it skips field machinery."""
        languages = self.context.get("languages")
        default = self.context.get("default_language", "en")
        return segment_document(instance, languages=languages, default_language=default)


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
