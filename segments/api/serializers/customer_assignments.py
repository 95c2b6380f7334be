"""Customer assignment inputs, and the assignment as the API shows it.

    {"customer": {"id": "98029737", "firstName": "John", "lastName": "Doe",
                  "email": "john.doe@email.com"},
     "legalEntity": {"id": "660af2af69babe3cf6e40771", "name": "SomeCompany"},
     "assignmentType": "MANUAL",
     "metadata": {"createdAt": "...", "modifiedAt": "...", "version": 1}}

`legalEntity` appears on B2B assignments only; `mixins` only when there are some.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from segments.api.serializers.assignments import AssignmentUpsertInputSerializer
from segments.api.serializers.segments import StrictCharField, StrictSerializer
from segments.choices import AssignmentType
from segments.documents import customer_assignment_document
from segments.models import CustomerAssignment
from segments.services.customer_assignments import CustomerAssignmentInput
from segmentservice.api.serializers import MetadataResponseSerializer


class CustomerAssignmentUpsertInputSerializer(AssignmentUpsertInputSerializer):
    """The body of `PUT .../customers/{customerId}[/{legalEntityId}]`."""

    ignored_fields = ("customer", "legalEntity", "assignmentType")

    def assignment_input(
        self, customer_id: str, legal_entity_id: str | None, data: dict[str, Any] | None = None
    ) -> CustomerAssignmentInput:
        """The service's input for the assignment the path names (`data`: as write_fields)."""
        return CustomerAssignmentInput(
            customer_id=customer_id,
            legal_entity_id=legal_entity_id,
            fields=self.write_fields(data),
        )


class CustomerAssignmentBulkInputSerializer(CustomerAssignmentUpsertInputSerializer):
    """One element of `PUT .../customers/bulk`: the upsert body plus whose assignment it is."""

    customerId = StrictCharField(max_length=64, help_text="The id of an existing customer.")
    legalEntityId = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The id of an existing legal entity; omitted (or null) for B2C.",
    )

    def bulk_input(self, data: dict[str, Any]) -> CustomerAssignmentInput:
        """The service's input for an element's validated data."""
        return self.assignment_input(data["customerId"], data.get("legalEntityId") or None, data)


class CustomerAssignmentKeyInputSerializer(StrictSerializer):
    """One element of `DELETE .../customers/bulk`: `{"customerId", "legalEntityId"?}`."""

    customerId = StrictCharField(max_length=64)
    legalEntityId = StrictCharField(
        max_length=64, required=False, allow_null=True, allow_blank=True
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Say plainly when the element is not a JSON object."""
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ['Each element must be {"customerId", "legalEntityId"}.']}
            )
        return super().to_internal_value(data)

    def key(self, data: dict[str, Any]) -> tuple[str, str | None]:
        """(customer id, legal entity id or None for B2C) of an element's validated data."""
        return data["customerId"], data.get("legalEntityId") or None


# --- Representation ---------------------------------------------------------------------------


class CustomerSummarySerializer(serializers.Serializer):
    """The assigned customer."""

    id = serializers.CharField()
    firstName = serializers.CharField(required=False)
    lastName = serializers.CharField(required=False)
    email = serializers.CharField(required=False)


class LegalEntitySummarySerializer(serializers.Serializer):
    """The legal entity a B2B customer is assigned for."""

    id = serializers.CharField()
    name = serializers.CharField(required=False)


class CustomerAssignmentB2CSerializer(serializers.Serializer):
    """A B2C customer assignment as the API shows it."""

    customer = CustomerSummarySerializer(read_only=True)
    assignmentType = serializers.ChoiceField(choices=AssignmentType.choices, read_only=True)
    # Not read_only, which the schema generator would mark required: `mixins` only when set.
    mixins = serializers.DictField(required=False)
    metadata = MetadataResponseSerializer(read_only=True)

    def to_representation(self, instance: CustomerAssignment) -> dict[str, Any]:
        """Render directly, as lists do."""
        return customer_assignment_document(instance)


class CustomerAssignmentSerializer(CustomerAssignmentB2CSerializer):
    """A customer assignment as the API shows it; `legalEntity` on B2B ones."""

    legalEntity = LegalEntitySummarySerializer(required=False, help_text="B2B assignments only.")
