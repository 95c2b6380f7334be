"""Serializers shared by every resource: metadata, validity, errors, bulk results, and the
validation of bulk elements one by one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from segmentservice.api.timestamps import InstantField


class ValidityRepresentationSerializer(serializers.Serializer):
    """A time window; either end may be open."""

    # `from` is a Python keyword, hence the source mapping.
    from_ = InstantField(required=False, allow_null=True)
    to = InstantField(required=False, allow_null=True)

    def get_fields(self):
        """Expose `from_` as `from` on the wire."""
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class MetadataResponseSerializer(serializers.Serializer):
    """`metadata` of a stored resource."""

    createdAt = InstantField(read_only=True)
    modifiedAt = InstantField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    mixins = serializers.DictField(child=serializers.CharField(), required=False)


class IdResponseSerializer(serializers.Serializer):
    """The answer to a create: the id of the new resource."""

    id = serializers.CharField()


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "description": "The field at fault, when exactly one is.",
                "properties": {
                    "field": {"type": "string"},
                    "type": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "type", "message"],
            },
            {
                "type": "array",
                "items": {"type": "string"},
                "description": "A 403 for a missing scope: `missing scope: <scope>` for each.",
            },
        ]
    }
)
class ErrorDetailsField(serializers.JSONField):
    """`details`: the one field at fault, or (a 403) the scopes the token lacks."""


class ErrorSerializer(serializers.Serializer):
    """The error body of every failure but 401."""

    code = serializers.IntegerField()
    status = serializers.CharField()
    message = serializers.CharField()
    resourceId = serializers.CharField(required=False)
    details = ErrorDetailsField(required=False)


class FaultDetailSerializer(serializers.Serializer):
    """Inner part of the 401 body."""

    errorcode = serializers.CharField()


class FaultInnerSerializer(serializers.Serializer):
    """Inner part of the 401 body."""

    faultstring = serializers.CharField()
    detail = FaultDetailSerializer()


class FaultSerializer(serializers.Serializer):
    """The 401 body: `{"fault": {"faultstring": "Invalid access token", ...}}`."""

    fault = FaultInnerSerializer()


class BulkResultSerializer(serializers.Serializer):
    """One entry of a 207 body."""

    index = serializers.IntegerField()
    id = serializers.CharField(required=False)
    code = serializers.IntegerField()
    status = serializers.CharField()
    message = serializers.CharField(required=False)


class BulkAssignmentResultSerializer(serializers.Serializer):
    """One entry of an assignment 207 body."""

    index = serializers.IntegerField()
    code = serializers.IntegerField()
    status = serializers.CharField()
    message = serializers.CharField(required=False)


def elements_validate(
    serializer_class: type[serializers.Serializer], elements: list[Any], *, context: dict[str, Any]
) -> Iterator[tuple[int, Any, serializers.Serializer, Any, Any]]:
    """Validate bulk elements one at a time, in order: `(index, element, serializer,
    validated data, None)` for a valid one and `(index, element, serializer, None, errors)`
    for another, `errors` as `Serializer.errors` reports them; `index` counts from 1.

    One `many=True` serializer validates every element with its child, as DRF's
    `ListSerializer` does, but an invalid element does not fail the others. `serializer`
    is that child (its `context` is `context`). One serializer, not one per element:
    building one deep-copies every declared field, which costs more than validating.
    """
    child = serializer_class(many=True, context=context).child
    for index, element in enumerate(elements, start=1):
        try:
            data = child.run_validation(element)
        except serializers.ValidationError as exc:
            yield index, element, child, None, _as_serializer_errors(exc.detail)
        else:
            yield index, element, child, data, None


def _as_serializer_errors(detail: Any) -> Any:
    # `Serializer.errors` reports a null body as "No data provided", not as a null field.
    if isinstance(detail, list) and len(detail) == 1 and getattr(detail[0], "code", None) == "null":
        return {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]}
    return detail
