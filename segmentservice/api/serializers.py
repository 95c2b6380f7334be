"""Serializers shared by every resource: metadata, validity, errors, bulk results."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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
