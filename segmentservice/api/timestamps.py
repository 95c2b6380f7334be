"""Instants in requests and responses: the wire format of `segmentservice.formats`."""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers

from segmentservice.formats import format_instant


class InstantField(serializers.DateTimeField):
    """A DRF field that accepts any ISO 8601 instant and renders the wire format."""

    def to_representation(self, value: datetime | None) -> str | None:
        """The wire format."""
        return format_instant(value)

    def to_internal_value(self, value):
        """An aware datetime; naive input is taken as UTC."""
        parsed = super().to_internal_value(value)
        return parsed.astimezone(UTC)
