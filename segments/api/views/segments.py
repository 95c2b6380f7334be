"""`/customer-segment/{tenant}/segments...`: the 11 segment operations."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.segments import SegmentSerializer, segment_document
from segments.api.views.base import READ_OR_OWN, TenantViewSet
from segments.query.fields import SEGMENT_FIELDS
from segments.selectors.segments import segment_get, segment_list
from segmentservice.api.schema import ACCEPT_LANGUAGE, LIST_PARAMETERS, SEARCH_PARAMETERS, errors

CUSTOMER_FILTERS = [
    OpenApiParameter(
        "customerId", str, description="Only segments this customer is assigned to (segment_read)."
    ),
    OpenApiParameter(
        "legalEntityId", str, description="Narrows a customer's segments to this legal entity."
    ),
]


@extend_schema_view(
    list=extend_schema(
        tags=["Segments"],
        summary="Retrieving all customer segments",
        parameters=[*LIST_PARAMETERS, ACCEPT_LANGUAGE, *CUSTOMER_FILTERS],
        responses={200: SegmentSerializer(many=True), **errors(400, 401, 403)},
    ),
    search=extend_schema(
        tags=["Segments"],
        summary="Searching with parameters for customer segments",
        parameters=[*SEARCH_PARAMETERS, ACCEPT_LANGUAGE, *CUSTOMER_FILTERS],
        responses={200: SegmentSerializer(many=True), **errors(400, 401, 403)},
    ),
    retrieve=extend_schema(
        tags=["Segments"],
        summary="Retrieving a customer segment",
        parameters=[
            OpenApiParameter("fields", str, description="Only these fields."),
            ACCEPT_LANGUAGE,
            CUSTOMER_FILTERS[1],
        ],
        responses={200: SegmentSerializer, **errors(401, 403, 404)},
    ),
)
class SegmentViewSet(TenantViewSet):
    """Segments of a tenant."""

    serializer_class = SegmentSerializer
    required_scopes = {
        "list": READ_OR_OWN,
        "search": READ_OR_OWN,
        "retrieve": READ_OR_OWN,
    }

    def get_queryset(self):
        """The segments the caller may see: a customer sees only its own effective ones."""
        own = self.own_customer()
        if own is not None:
            customer_id, legal_entity_id = own
            return segment_list(
                tenant=self.tenant,
                customer_id=customer_id,
                legal_entity_id=legal_entity_id,
                only_effective=True,
            )
        customer_id = self.request.query_params.get("customerId")
        return segment_list(
            tenant=self.tenant,
            customer_id=customer_id,
            legal_entity_id=self.request.query_params.get("legalEntityId") if customer_id else None,
        )

    def render(self, segment) -> dict:
        """The wire form of one segment for this request."""
        return segment_document(
            segment, languages=self.languages, default_language=self.tenant.default_language
        )

    def list(self, request: Request, tenant: str) -> Response:
        """GET /segments."""
        return self.list_rows(
            self.get_queryset(),
            field_map=SEGMENT_FIELDS,
            tiebreak=("external_id",),
            render=self.render,
        )

    @action(detail=False, methods=["post"])
    def search(self, request: Request, tenant: str) -> Response:
        """POST /segments/search: the list, with `q` in the body."""
        return self.list_rows(
            self.get_queryset(),
            field_map=SEGMENT_FIELDS,
            tiebreak=("external_id",),
            render=self.render,
            q_in_body=True,
        )

    def retrieve(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}."""
        segment = segment_get(
            tenant=self.tenant, segment_id=segment_id, queryset=self.get_queryset()
        )
        return self.one_row(segment, self.render)
