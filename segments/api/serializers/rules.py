"""Wire shapes of the rule operations (SPEC §12, an extension of the hosted contract)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from segments.api.serializers.segments import StrictCharField, StrictSerializer
from segments.models import SegmentRule
from segments.services.rules import RuleInput
from segmentservice.api.errors import validation_message
from segmentservice.api.timestamps import InstantField
from segmentservice.exceptions import ValidationFailed


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean, not a string or a number that reads as one."""

    def to_internal_value(self, data: Any) -> bool:
        """Refuse anything but true or false."""
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class RuleInputSerializer(StrictSerializer):
    """A rule: `{"q": "attributes.tier:gold", "assign": "B2C", "enabled": true}`."""

    q = StrictCharField(max_length=65_536, help_text="A q expression over the customer (SPEC §12).")
    assign = serializers.ChoiceField(
        choices=SegmentRule.Assign.choices,
        default=SegmentRule.Assign.B2C,
        help_text="B2C: one assignment per matching customer; B2B: one per matching "
        "(customer, legal entity).",
    )
    enabled = StrictBooleanField(default=True)


def rule_input(data: Any) -> RuleInput:
    """The validated rule body; ValidationFailed naming the field at fault."""
    if not isinstance(data, dict):
        raise ValidationFailed('The rule body must be a JSON object like {"q": "..."}.')
    serializer = RuleInputSerializer(data=data)
    if not serializer.is_valid():
        message, details = validation_message(serializer.errors)
        raise ValidationFailed(message, details=details)
    values = serializer.validated_data
    return RuleInput(q=values["q"], assign=values["assign"], enabled=values["enabled"])


class EvaluationSerializer(serializers.Serializer):
    """What the write changed: how many assignments the rule added and removed."""

    added = serializers.IntegerField()
    removed = serializers.IntegerField()


class RuleSerializer(serializers.Serializer):
    """A segment's rule, with its last evaluation and the segment's member count."""

    segmentId = serializers.CharField()
    q = serializers.CharField()
    assign = serializers.ChoiceField(choices=SegmentRule.Assign.choices)
    enabled = serializers.BooleanField()
    lastEvaluatedAt = InstantField(allow_null=True)
    memberCount = serializers.IntegerField(help_text="Customer assignments of the segment.")
    excludedCount = serializers.IntegerField(
        help_text="Customers whose automatic assignment was deleted by hand."
    )
    evaluation = EvaluationSerializer(
        required=False, help_text="After a PUT: what the evaluation changed."
    )


class PreviewCustomerSerializer(serializers.Serializer):
    """A customer in a preview's sample."""

    id = serializers.CharField()
    firstName = serializers.CharField()
    lastName = serializers.CharField()
    email = serializers.CharField()
    legalEntityId = serializers.CharField(required=False, help_text="For a B2B rule.")


class PreviewChangeSerializer(serializers.Serializer):
    """Members the rule would add or remove."""

    count = serializers.IntegerField()
    sample = PreviewCustomerSerializer(many=True)


class PreviewSerializer(serializers.Serializer):
    """What a rule would make of the segment, against its members today."""

    count = serializers.IntegerField(help_text="The rule's matches (excluded ones left out).")
    sample = PreviewCustomerSerializer(many=True)
    added = PreviewChangeSerializer()
    removed = PreviewChangeSerializer()


class ConditionReasonSerializer(serializers.Serializer):
    """One condition of a rule, the customer's value there, and whether it holds."""

    condition = serializers.CharField()
    field = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    verdict = serializers.BooleanField()


class ReasonGroupSerializer(serializers.Serializer):
    """The group a `GROUP` reason is about."""

    id = serializers.CharField()
    name = serializers.JSONField(required=False, help_text="Localized to Accept-Language.")


class ReasonSerializer(serializers.Serializer):
    """One membership source: MANUAL, AUTOMATIC (the rule's conditions), GROUP (the group
    assignment's group) or EXCLUDED."""

    type = serializers.ChoiceField(choices=["MANUAL", "AUTOMATIC", "GROUP", "EXCLUDED", "RULE"])
    legalEntityId = serializers.CharField(required=False, allow_null=True)
    group = ReasonGroupSerializer(required=False)
    matched = serializers.BooleanField(required=False)
    q = serializers.CharField(required=False)
    conditions = ConditionReasonSerializer(many=True, required=False)


class SegmentStateSerializer(serializers.Serializer):
    """The segment's status and validity behind `effective`."""

    status = serializers.CharField()
    validity = serializers.DictField(allow_null=True)


class ExplainSerializer(serializers.Serializer):
    """Why a customer is, or is not, in a segment."""

    member = serializers.BooleanField()
    effective = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    segment = SegmentStateSerializer()
