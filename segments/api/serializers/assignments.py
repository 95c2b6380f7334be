"""The input every assignment write shares: `{"mixins", "metadata": {"version", "mixins"}}`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from segments.services.assignments import WriteFields
from segmentservice.api.errors import validation_message
from segmentservice.api.serializers import MetadataInputSerializer
from segmentservice.exceptions import ValidationFailed

# Keys a client may send back from a GET response; they are read-only and ignored.
METADATA_ECHO = frozenset({"createdAt", "modifiedAt"})


class AssignmentUpsertInputSerializer(serializers.Serializer):
    """The body of an assignment upsert; unknown keys are refused, read-only echoes ignored.

    {"mixins": {"segmentAttributes": {"membershipStatus": "PREMIUM"}},
     "metadata": {"version": 2, "mixins": {"segmentAttributes": "https://..."}}}
    """

    # Fields of the response that a client doing GET-modify-PUT sends back unchanged.
    echo_fields: frozenset[str] = frozenset()

    mixins = serializers.DictField(required=False, allow_null=True)
    metadata = MetadataInputSerializer(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Check the shape and refuse keys the resource does not have."""
        if not isinstance(data, dict):
            what = "Each element" if self.context.get("element") else "The body"
            raise serializers.ValidationError(
                {"non_field_errors": [f"{what} must be a JSON object."]}
            )
        known = set(self.fields) | self.echo_fields
        unknown = sorted(set(data) - known)
        problems: dict[str, list[str]] = {key: ["Unknown field."] for key in unknown}
        metadata = data.get("metadata")
        if isinstance(metadata, dict):
            allowed = {"version", "mixins"} | METADATA_ECHO
            for key in sorted(set(metadata) - allowed):
                problems[f"metadata.{key}"] = ["Unknown field."]
            data = {
                **data,
                "metadata": {k: v for k, v in metadata.items() if k not in METADATA_ECHO},
            }
        try:
            value = super().to_internal_value(
                {k: v for k, v in data.items() if k not in self.echo_fields}
            )
        except serializers.ValidationError as exc:
            if not problems:
                raise
            detail = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
            raise serializers.ValidationError({**detail, **problems}) from exc
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def write_fields(self) -> WriteFields:
        """The validated writable fields."""
        data = self.validated_data
        metadata = data.get("metadata") or {}
        return WriteFields(
            mixins=data.get("mixins") or {},
            metadata_mixins=metadata.get("mixins") or {},
            version=metadata.get("version"),
        )


def element_input(serializer_class: type[serializers.Serializer], element: Any, build):
    """Validate one bulk element; its built input, or a ValidationFailed naming its problems."""
    serializer = serializer_class(data=element, context={"element": True})
    if not serializer.is_valid():
        message, details = validation_message(serializer.errors)
        return ValidationFailed(message, details=details)
    return build(serializer)
