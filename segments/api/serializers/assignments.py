"""The input every assignment write shares: `{"mixins", "metadata": {"version", "mixins"}}`.

Inputs are strict, as segment inputs are: an unknown field is a 400 naming it and types are
not coerced. The fields of a GET response (`customer`, `item`, `metadata.createdAt`, ...)
are accepted and ignored, so a client may send back what it read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

from segments.api.serializers.segments import MetadataInputSerializer, StrictSerializer
from segments.services.assignments import WriteFields
from segmentservice.api.errors import validation_message
from segmentservice.api.serializers import elements_validate
from segmentservice.bulk import BulkItemResult
from segmentservice.exceptions import ValidationFailed


class AssignmentUpsertInputSerializer(StrictSerializer):
    """The body of an assignment upsert.

    {"mixins": {"segmentAttributes": {"membershipStatus": "PREMIUM"}},
     "metadata": {"version": 2, "mixins": {"segmentAttributes": "https://..."}}}
    """

    mixins = serializers.DictField(
        required=False, allow_null=True, help_text="A key-value map of additional attributes."
    )
    metadata = MetadataInputSerializer(required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Say plainly when the body (or bulk element) is not a JSON object."""
        if not isinstance(data, dict):
            what = "Each element" if self.context.get("element") else "The body"
            raise serializers.ValidationError(
                {"non_field_errors": [f"{what} must be a JSON object."]}
            )
        return super().to_internal_value(data)

    def write_fields(self, data: dict[str, Any] | None = None) -> WriteFields:
        """The writable fields of `data` (default: this serializer's validated data)."""
        data = self.validated_data if data is None else data
        metadata = data.get("metadata") or {}
        return WriteFields(
            mixins=data.get("mixins") or {},
            metadata_mixins=metadata.get("mixins") or {},
            version=metadata.get("version"),
        )


def elements_input(
    serializer_class: type[serializers.Serializer],
    elements: list[Any],
    build: Callable[[Any, dict[str, Any]], Any],
) -> tuple[list[tuple[int, Any]], list[BulkItemResult]]:
    """Validate bulk elements in order: the valid ones as `(index, build(serializer, data))`
    pairs for the service, the others as 400 results naming their problems."""
    inputs: list[tuple[int, Any]] = []
    failures: list[BulkItemResult] = []
    for index, _, serializer, data, errors in elements_validate(
        serializer_class, elements, context={"element": True}
    ):
        if errors is None:
            inputs.append((index, build(serializer, data)))
        else:
            message, details = validation_message(errors)
            error = ValidationFailed(message, details=details)
            failures.append(BulkItemResult.failed(index=index, error=error))
    return inputs, failures
