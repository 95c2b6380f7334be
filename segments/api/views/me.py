"""`GET /segments/me` and `GET /me/segments`: the segments that apply to the calling customer.

A customer token (segment_read_own with a `customerId`) reads its effective segments,
direct and inherited through groups (`segments.selectors.membership`), answered as
`GET /segments` answers a customer: `q`, `sort`, paging, `fields`, `X-Total-Count`,
`Accept-Language`, `legalEntityId` (when the token names none), plus `siteCode`.

Any other caller has no "me": a token without segment_read_own is the usual 403 naming
the missing scope; a segment_read_own token without a `customerId` is a 403 saying so
(`segments.api.views.base.NO_CUSTOMER`), as on the category trees.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.segments import SegmentSerializer
from segments.api.views.base import OWN, TenantScopedViewSet
from segments.documents import segment_document
from segments.filtersets import SiteFilterSet
from segments.models import Segment
from segments.query.fields import SEGMENT_FIELDS
from segmentservice.api.schema import (
    ACCEPT_LANGUAGE,
    LEGAL_ENTITY_PARAMETER,
    NON_BLANK,
    TENANT_PARAMETER,
    errors,
)

TAGS = ["Segments"]
SITE_CODE = OpenApiParameter("siteCode", NON_BLANK, description="Only segments of this site.")
DESCRIPTION = (
    "The effective segments that apply to the calling customer (a segment_read_own token "
    "with a customerId): those it is assigned to, directly or by a rule, and those of the "
    "groups it belongs to (a group bound to a legal entity only while the customer acts for "
    "it). Answered as `GET /segments` answers a customer. A token without a customerId is "
    "a 403."
)


class OwnSegmentsViewSet(TenantScopedViewSet):
    """The calling customer's segments; the rows are what `get_queryset` lets it read."""

    queryset = Segment.objects.none()  # names the model; the rows come from get_queryset
    serializer_class = SegmentSerializer
    query_fields = SEGMENT_FIELDS
    ordering_tiebreak = ("external_id",)
    required_scopes = {"list": OWN}

    def safely_get_queryset(self, queryset):
        """`siteCode` narrows; the customer's own effective segments are kept by `get_queryset`."""
        return SiteFilterSet.apply(self.request.query_params, queryset, tenant=self.tenant)

    def render(self, segment: Segment) -> dict:
        """The wire form of one segment for this request."""
        return segment_document(
            segment, languages=self.languages, default_language=self.tenant.default_language
        )

    def list(self, request: Request, tenant: str) -> Response:
        """The customer's effective segments, a page of them."""
        return self.list_documents(self.render)


@extend_schema(parameters=[TENANT_PARAMETER])
class SegmentsMeViewSet(OwnSegmentsViewSet):
    """`GET /segments/me` (the hosted service's tutorial)."""

    @extend_schema(
        tags=TAGS,
        operation_id="GET-customer-segment-retrieve-own-segments",
        summary="Retrieving the customer segments of the calling customer",
        description=DESCRIPTION,
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER, SITE_CODE],
        responses={200: SegmentSerializer(many=True), **errors(400, 401, 403)},
    )
    def list(self, request: Request, tenant: str) -> Response:
        """GET /segments/me."""
        return super().list(request, tenant)


@extend_schema(parameters=[TENANT_PARAMETER])
class MeSegmentsViewSet(OwnSegmentsViewSet):
    """`GET /me/segments`: the same answer under the caller's own path."""

    @extend_schema(
        tags=TAGS,
        operation_id="GET-customer-segment-retrieve-me-segments",
        summary="Retrieving the customer segments of the calling customer",
        description=DESCRIPTION + " The same answer as `GET /segments/me`.",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER, SITE_CODE],
        responses={200: SegmentSerializer(many=True), **errors(400, 401, 403)},
    )
    def list(self, request: Request, tenant: str) -> Response:
        """GET /me/segments."""
        return super().list(request, tenant)
