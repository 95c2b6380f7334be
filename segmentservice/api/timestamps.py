"""How instants look on the wire: ISO 8601, UTC, milliseconds, `Z` (2024-05-14T12:00:00.000Z)."""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers


def format_instant(value: datetime | None) -> str | None:
    """Render an aware datetime as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    # Not strftime: its %Y gives "107" for the year 107, which is no ISO 8601 date.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


class InstantField(serializers.DateTimeField):
    """A DRF field that accepts any ISO 8601 instant and renders the wire format."""

    def to_representation(self, value: datetime | None) -> str | None:
        """The wire format."""
        return format_instant(value)

    def to_internal_value(self, value):
        """An aware datetime; naive input is taken as UTC."""
        parsed = super().to_internal_value(value)
        return parsed.astimezone(UTC)
