"""How instants look on the wire: ISO 8601, UTC, milliseconds, `Z` (2024-05-14T12:00:00.000Z)."""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers


def format_instant(value: datetime | None) -> str | None:
    """Render an aware datetime as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class InstantField(serializers.DateTimeField):
    """A DRF field that accepts any ISO 8601 instant and renders the wire format."""

    def to_representation(self, value: datetime | None) -> str | None:
        """The wire format."""
        return format_instant(value)

    def to_internal_value(self, value):
        """An aware datetime; naive input is taken as UTC."""
        parsed = super().to_internal_value(value)
        return parsed.astimezone(UTC)
