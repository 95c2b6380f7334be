"""`/customer-segment/{tenant}/segments/{segmentId}/customers...`: the 10 customer operations."""

from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.assignments import elements_input
from segments.api.serializers.customer_assignments import (
    CustomerAssignmentB2CSerializer,
    CustomerAssignmentBulkInputSerializer,
    CustomerAssignmentKeyInputSerializer,
    CustomerAssignmentSerializer,
    CustomerAssignmentUpsertInputSerializer,
)
from segments.api.views.assignments import SegmentChildViewSet
from segments.api.views.base import MANAGE, READ, READ_OR_OWN
from segments.documents import customer_assignment_document
from segments.models import CustomerAssignment
from segments.query.fields import CUSTOMER_ASSIGNMENT_FIELDS
from segments.selectors.customer_assignments import (
    customer_assignment_get,
    customer_assignment_list,
)
from segments.services.customer_assignments import (
    customer_assignment_delete,
    customer_assignment_upsert,
    customer_assignments_bulk_delete,
    customer_assignments_bulk_upsert,
)
from segmentservice.api.schema import (
    ASSIGNMENT_BULK_RESPONSES,
    CUSTOMER_KEY_ELEMENT,
    FIELDS_PARAMETER,
    ID_ELEMENT,
    LEGAL_ENTITY_PARAMETER,
    SEARCH_BODY,
    bulk_delete_body,
    errors,
)
from segmentservice.bulk import bulk_body, bulk_delete_elements, bulk_elements, bulk_merge

TAGS = ["Customers Assignments"]
# Without `sort`: by customer id, the B2C assignment before the B2B ones, then legal entity.
TIEBREAK = (F("customer__external_id").asc(), F("legal_entity__external_id").asc(nulls_first=True))
UPSERT_RESPONSES = {
    201: OpenApiResponse(description="A new customer assignment was created (no body)."),
    204: OpenApiResponse(description="The customer assignment was updated."),
    **errors(400, 401, 403, 404, 409),
}
DELETE_RESPONSES = {
    204: OpenApiResponse(description="The customer assignment was removed."),
    **errors(401, 403, 404),
}


class CustomerAssignmentViewSet(SegmentChildViewSet):
    """Customers (B2C) and customers acting for a legal entity (B2B) in a segment."""

    queryset = CustomerAssignment.objects.none()  # names the model; rows from get_queryset
    serializer_class = CustomerAssignmentSerializer
    lookup_url_kwarg = "customer_id"
    query_fields = CUSTOMER_ASSIGNMENT_FIELDS
    ordering_tiebreak = TIEBREAK
    required_scopes = {
        "list": READ_OR_OWN,
        "search": READ,
        "retrieve": READ,
        "update": MANAGE,
        "destroy": MANAGE,
        "retrieve_b2b": READ,
        "upsert_b2b": MANAGE,
        "destroy_b2b": MANAGE,
        "bulk_upsert": MANAGE,
        "bulk_destroy": MANAGE,
    }

    def safely_get_queryset(self, queryset):
        """The readable segment's assignments; a customer's own only (`get_queryset`)."""
        segment = self.readable_segment(self.kwargs["segment_id"])
        return customer_assignment_list(tenant=self.tenant, segment=segment, queryset=queryset)

    def _retrieve(self, segment_id: str, customer_id: str, legal_entity_id: str | None):
        # A customer caller finds its own assignments only; another's simply is not there.
        row = customer_assignment_get(
            tenant=self.tenant,
            segment=self.readable_segment(segment_id),
            customer_id=customer_id,
            legal_entity_id=legal_entity_id,
            queryset=self.get_queryset(),
        )
        return self.one_row(row, customer_assignment_document)

    def _upsert(self, request: Request, segment_id: str, customer_id: str, legal_entity_id):
        serializer = CustomerAssignmentUpsertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = customer_assignment_upsert(
            tenant=self.tenant,
            segment_id=segment_id,
            data=serializer.assignment_input(customer_id, legal_entity_id),
        )
        return Response(status=201 if outcome.created else 204)

    @extend_schema(
        tags=TAGS,
        summary="Retrieving all customer assignments for a customer segment",
        operation_id="GET-customer-segment-retrieve-customers",
        parameters=[LEGAL_ENTITY_PARAMETER],
        responses={200: CustomerAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def list(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}/customers."""
        return self.list_documents(customer_assignment_document)

    @extend_schema(
        tags=TAGS,
        summary="Searching with parameters for customer assignments",
        operation_id="POST-customer-segment-search-customers",
        parameters=[LEGAL_ENTITY_PARAMETER],
        request={"application/json": SEARCH_BODY},
        responses={200: CustomerAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @action(detail=False, methods=["post"])
    def search(self, request: Request, tenant: str, segment_id: str) -> Response:
        """POST /segments/{segmentId}/customers/search: the list, with `q` in the body."""
        return self.list_documents(customer_assignment_document)

    @extend_schema(
        tags=TAGS,
        summary="[B2C] Retrieving a customer assignment for a customer segment",
        operation_id="GET-customer-segment-retrieve-customer-by-customerId",
        parameters=[FIELDS_PARAMETER],
        responses={200: CustomerAssignmentB2CSerializer, **errors(401, 403, 404)},
    )
    def retrieve(
        self, request: Request, tenant: str, segment_id: str, customer_id: str
    ) -> Response:
        """GET /segments/{segmentId}/customers/{customerId}."""
        return self._retrieve(segment_id, customer_id, None)

    @extend_schema(
        tags=TAGS,
        summary="[B2C] Updating a customer assignment for a customer segment",
        operation_id="PUT-customer-segment-update-customer-by-customerId",
        request=CustomerAssignmentUpsertInputSerializer,
        responses=UPSERT_RESPONSES,
    )
    def update(self, request: Request, tenant: str, segment_id: str, customer_id: str) -> Response:
        """PUT /segments/{segmentId}/customers/{customerId}: 201 created, 204 updated."""
        return self._upsert(request, segment_id, customer_id, None)

    @extend_schema(
        tags=TAGS,
        summary="[B2C] Removing a customer from customer segment",
        operation_id="DELETE-customer-segment-remove-customer-by-customerId",
        request=None,
        responses=DELETE_RESPONSES,
    )
    def destroy(self, request: Request, tenant: str, segment_id: str, customer_id: str) -> Response:
        """DELETE /segments/{segmentId}/customers/{customerId}."""
        customer_assignment_delete(
            tenant=self.tenant, segment_id=segment_id, customer_id=customer_id
        )
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        summary="[B2B] Retrieving a customer assignment for a customer segment",
        operation_id="GET-customer-segment-retrieve-customer",
        parameters=[FIELDS_PARAMETER],
        responses={200: CustomerAssignmentSerializer, **errors(401, 403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="<str:legal_entity_id>", url_name="b2b")
    def retrieve_b2b(
        self,
        request: Request,
        tenant: str,
        segment_id: str,
        customer_id: str,
        legal_entity_id: str,
    ) -> Response:
        """GET /segments/{segmentId}/customers/{customerId}/{legalEntityId}."""
        return self._retrieve(segment_id, customer_id, legal_entity_id)

    @retrieve_b2b.mapping.put
    @extend_schema(
        tags=TAGS,
        summary="[B2B] Updating a customer assignment for a customer segment",
        operation_id="PUT-customer-segment-update-customer",
        request=CustomerAssignmentUpsertInputSerializer,
        responses=UPSERT_RESPONSES,
    )
    def upsert_b2b(
        self,
        request: Request,
        tenant: str,
        segment_id: str,
        customer_id: str,
        legal_entity_id: str,
    ) -> Response:
        """PUT /segments/{segmentId}/customers/{customerId}/{legalEntityId}."""
        return self._upsert(request, segment_id, customer_id, legal_entity_id)

    @retrieve_b2b.mapping.delete
    @extend_schema(
        tags=TAGS,
        summary="[B2B] Removing a customer from customer segment",
        operation_id="DELETE-customer-segment-remove-customer",
        request=None,
        responses=DELETE_RESPONSES,
    )
    def destroy_b2b(
        self,
        request: Request,
        tenant: str,
        segment_id: str,
        customer_id: str,
        legal_entity_id: str,
    ) -> Response:
        """DELETE /segments/{segmentId}/customers/{customerId}/{legalEntityId}."""
        customer_assignment_delete(
            tenant=self.tenant,
            segment_id=segment_id,
            customer_id=customer_id,
            legal_entity_id=legal_entity_id,
        )
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        summary="Updating customer assignments for a customer segment in bulk",
        operation_id="PUT-customer-segment-update-customers-bulk",
        request=CustomerAssignmentBulkInputSerializer(many=True),
        responses=ASSIGNMENT_BULK_RESPONSES,
    )
    @action(detail=False, methods=["put"], url_path="bulk", url_name="bulk")
    def bulk_upsert(self, request: Request, tenant: str, segment_id: str) -> Response:
        """PUT /segments/{segmentId}/customers/bulk: 207, one entry per element."""
        elements, failures = elements_input(
            CustomerAssignmentBulkInputSerializer,
            bulk_elements(request.data),
            lambda s, data: s.bulk_input(data),
        )
        results = customer_assignments_bulk_upsert(
            tenant=self.tenant, segment_id=segment_id, elements=elements
        )
        return Response(bulk_body(bulk_merge(failures, results), with_id=False), status=207)

    @bulk_upsert.mapping.delete
    @extend_schema(
        tags=TAGS,
        summary="Removing customers from customer segment in bulk",
        operation_id="DELETE-customer-segment-remove-customers-bulk",
        description='An array of `{"customerId", "legalEntityId"?}`, or the same under '
        '`{"ids": [...]}`, where a plain customer id stands for its B2C assignment: '
        '`{"ids": ["c1", {"customerId": "c2", "legalEntityId": "le1"}]}`.',
        request=bulk_delete_body(
            CUSTOMER_KEY_ELEMENT,
            {"oneOf": [{**ID_ELEMENT, "maxLength": 64}, CUSTOMER_KEY_ELEMENT]},
        ),
        responses=ASSIGNMENT_BULK_RESPONSES,
    )
    def bulk_destroy(self, request: Request, tenant: str, segment_id: str) -> Response:
        """DELETE /segments/{segmentId}/customers/bulk: `[{"customerId", "legalEntityId"?}]`."""
        elements = bulk_delete_elements(request.data, id_element=lambda id: {"customerId": id})
        keys, failures = elements_input(
            CustomerAssignmentKeyInputSerializer, elements, lambda s, data: s.key(data)
        )
        results = customer_assignments_bulk_delete(
            tenant=self.tenant, segment_id=segment_id, keys=keys
        )
        return Response(bulk_body(bulk_merge(failures, results), with_id=False), status=207)
