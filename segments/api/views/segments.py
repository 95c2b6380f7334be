"""`/customer-segment/{tenant}/segments...`: the 11 segment operations.

Each action validates its input with a serializer of `segments.api.serializers.segments`,
calls one service (`segments.services.segments`) or selector, and renders the result.
The OpenAPI description of each operation sits on its method, with the hosted service's
operation ids so that generated clients keep their method names.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.segments import (
    BULK_CREATE,
    BULK_UPSERT,
    CREATE,
    PATCH,
    UPSERT,
    MatchInputSerializer,
    MatchItemSerializer,
    PatchOperationSerializer,
    SegmentInputSerializer,
    SegmentMergePatchSerializer,
    SegmentSerializer,
    parse_match_input,
    parse_segment_input,
    segment_ids_input,
    segment_patch_change,
    segment_writes,
)
from segments.api.views.base import (
    MANAGE,
    READ_OR_OWN,
    ActingCustomer,
    TenantScopedViewSet,
    query_flag,
)
from segments.api.views.compiled import compiled_rows
from segments.documents import segment_document
from segments.filtersets import SegmentFilterSet
from segments.models import Segment
from segments.query.fields import SEGMENT_FIELDS
from segments.selectors.match import matching_product_ids
from segments.selectors.segments import (
    customer_segment_ids,
    segment_found,
    segment_lookup,
    segments_with_ids,
)
from segments.services.segments import (
    segment_create,
    segment_delete,
    segment_patch,
    segment_upsert,
    segments_bulk_create,
    segments_bulk_delete,
    segments_bulk_upsert,
)
from segmentservice.api.parsers import JSONMergePatchParser, JSONPatchParser, StrictJSONParser
from segmentservice.api.schema import (
    ACCEPT_LANGUAGE,
    CONTENT_LANGUAGE,
    ID_ELEMENT,
    NON_BLANK,
    SEARCH_BODY,
    TENANT_PARAMETER,
    bulk_delete_body,
    errors,
)
from segmentservice.api.serializers import BulkResultSerializer, IdResponseSerializer
from segmentservice.bulk import bulk_body, bulk_delete_elements, bulk_elements, bulk_merge

TAGS = ["Segments"]
CUSTOMER_FILTERS = [
    OpenApiParameter(
        "customerId",
        NON_BLANK,
        description="Only segments this customer is assigned to (needs segment_read).",
    ),
    OpenApiParameter(
        "legalEntityId",
        NON_BLANK,
        description="Narrows a customer's segments to this legal entity.",
    ),
]
SEGMENT_ID = OpenApiParameter(
    "segment_id",
    str,
    OpenApiParameter.PATH,
    description="The segment's id.",
)
FORCE_DELETE = OpenApiParameter(
    "forceDelete",
    bool,
    description="`true` deletes segments that have customers or items assigned, with them; "
    "without it such a segment is a 400.",
)
# Examples of list responses give one element; the schema generator makes them arrays.
BULK_RESULTS = OpenApiResponse(
    BulkResultSerializer(many=True),
    description="Multi-status: one entry per element, in order, `index` counting from 1.",
    examples=[
        OpenApiExample(
            "An element written",
            {"index": 1, "id": "628cd20c6e8b2432b6346ca6", "code": 201, "status": "Created"},
        ),
        OpenApiExample(
            "An element refused",
            {
                "index": 2,
                "code": 400,
                "status": "Bad Request",
                "message": "siteCode: This field is required.",
            },
        ),
    ],
)
SEGMENT_EXAMPLE = {
    "id": "628cd20c6e8b2432b6346ca6",
    "name": {"en": "Golden Segment"},
    "description": {"en": "Golden Segment"},
    "validity": {"from": "2024-04-17T08:00:00.000Z", "to": "2025-04-17T08:00:00.000Z"},
    "status": "ACTIVE",
    "siteCode": "main",
}


@extend_schema(parameters=[TENANT_PARAMETER])
class SegmentViewSet(TenantScopedViewSet):
    """Segments of a tenant."""

    queryset = Segment.objects.none()  # names the model; the rows come from get_queryset
    conditional_actions = ("retrieve",)
    serializer_class = SegmentSerializer
    lookup_url_kwarg = "segment_id"
    query_fields = SEGMENT_FIELDS
    ordering_tiebreak = ("external_id",)
    read_actions = frozenset({"search", "match"})
    subject_parameters = ("customerId", "legalEntityId")
    required_scopes = {
        "list": READ_OR_OWN,
        "search": READ_OR_OWN,
        "retrieve": READ_OR_OWN,
        "create": MANAGE,
        "update": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "bulk_create": MANAGE,
        "bulk_upsert": MANAGE,
        "bulk_delete": MANAGE,
        "match": MANAGE,
    }

    def get_parsers(self):
        """PATCH also reads `application/json-patch+json` and `application/merge-patch+json`."""
        request = getattr(self, "request", None)
        if request is not None and request.method == "PATCH":
            return [StrictJSONParser(), JSONPatchParser(), JSONMergePatchParser()]
        return super().get_parsers()

    def safely_get_queryset(self, queryset):
        """A reader's `customerId` and `legalEntityId` narrow the segments.

        A customer's are its own effective ones whatever it asks (`get_queryset` keeps
        them so), and another customer's id must not narrow them: that would tell which of
        its segments that customer is in.
        """
        if self.customer is not None:
            return queryset
        if self.subject is None:  # parses legalEntityId alone, which narrows nothing
            return SegmentFilterSet.apply(self.request.query_params, queryset, tenant=self.tenant)
        # `subject` parsed both parameters already.
        return segments_with_ids(queryset, tenant=self.tenant, segment_ids=self.subject_segment_ids)

    @cached_property
    def subject(self) -> ActingCustomer | None:
        """The customer a reader's `customerId` keeps the segments to, acting for its
        `legalEntityId`; None without one (and for a customer's token, which reads its own).
        A value that does not parse is a 400 naming it."""
        if self.customer is not None or "customerId" not in self.request.query_params:
            return None
        values = SegmentFilterSet.cleaned(self.request.query_params)
        return ActingCustomer(values["customerId"], values["legalEntityId"])

    @cached_property
    def subject_segment_ids(self) -> list[int]:
        """The ids of every segment the `subject` is assigned to, read once per request
        before the list is built (so a compiled list takes them as its values)."""
        assert self.subject is not None
        return customer_segment_ids(
            tenant=self.tenant,
            customer_id=self.subject.customer_id,
            legal_entity_id=self.subject.legal_entity_id,
        )

    def render(self, segment) -> dict:
        """The wire form of one segment for this request."""
        return segment_document(
            segment, languages=self.languages, default_language=self.tenant.default_language
        )

    def input_context(self, mode: str, path_id: str | None = None) -> dict:
        """What the input serializers need: tenant languages, Content-Language, the path id."""
        return {
            "tenant": self.tenant,
            "content_language": self.content_language,
            "mode": mode,
            "path_id": path_id,
            "media_type": self.request.content_type or "application/json",
        }

    # --- reads ----------------------------------------------------------------------------

    @extend_schema(
        tags=TAGS,
        operation_id="GET-customer-segment-retrieve-segments",
        summary="Retrieving all customer segments",
        description="Retrieves the customer segments, filtered by `q`. A customer token "
        "(segment_read_own) sees only the effective segments it is assigned to.",
        parameters=[ACCEPT_LANGUAGE, *CUSTOMER_FILTERS],
        responses={200: SegmentSerializer(many=True), **errors(400, 401, 403)},
    )
    def list(self, request: Request, tenant: str) -> Response:
        """GET /segments."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        operation_id="POST-customer-segment-search-segments",
        summary="Searching with parameters for customer segments",
        description='The list, with the query in the body: `{"q": "siteCode:main"}`.',
        parameters=[ACCEPT_LANGUAGE, *CUSTOMER_FILTERS],
        request={"application/json": SEARCH_BODY},
        responses={200: SegmentSerializer(many=True), **errors(400, 401, 403)},
    )
    @action(detail=False, methods=["post"])
    def search(self, request: Request, tenant: str) -> Response:
        """POST /segments/search: the list, with `q` in the body."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        operation_id="GET-customer-segment-retrieve-segment",
        summary="Retrieving a customer segment",
        description="One segment; a customer token sees only its own effective segments.",
        parameters=[
            SEGMENT_ID,
            OpenApiParameter("fields", str, description="Only these fields."),
            ACCEPT_LANGUAGE,
            CUSTOMER_FILTERS[1],
        ],
        responses={200: SegmentSerializer, **errors(401, 403, 404)},
    )
    def retrieve(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}: compiled once per shape (`compiled_rows`)."""
        rows = compiled_rows(self, _one_segment, segment_id=(EXTERNAL_ID, segment_id))
        if rows is None:
            rows = list(_one_segment(self, {"segment_id": segment_id}))
        return self.one_row(segment_found(rows, segment_id=segment_id), self.render)

    # --- writes ---------------------------------------------------------------------------

    @extend_schema(
        tags=TAGS,
        operation_id="POST-customer-segment-create-segment",
        summary="Creating a customer segment",
        description="Creates a segment; without `id`, one of 24 hex characters is generated.",
        parameters=[CONTENT_LANGUAGE],
        request=SegmentInputSerializer,
        examples=[OpenApiExample("Segment", SEGMENT_EXAMPLE, request_only=True)],
        responses={201: IdResponseSerializer, **errors(400, 401, 403, 409)},
    )
    def create(self, request: Request, tenant: str) -> Response:
        """POST /segments."""
        write = parse_segment_input(request.data, context=self.input_context(CREATE))
        segment = segment_create(
            tenant=self.tenant, fields=write.fields, segment_id=write.segment_id
        )
        return Response({"id": segment.external_id}, status=201)

    @extend_schema(
        tags=TAGS,
        operation_id="PUT-customer-segment-update-segment",
        summary="Upserting a customer segment",
        description="Replaces the segment, or creates it when there is none. A "
        "`metadata.version` other than the stored one is a 409 and nothing is written.",
        parameters=[SEGMENT_ID, CONTENT_LANGUAGE],
        request=SegmentInputSerializer,
        responses={
            201: OpenApiResponse(IdResponseSerializer, description="Created."),
            204: OpenApiResponse(description="Updated."),
            **errors(400, 401, 403, 409),
        },
    )
    def update(self, request: Request, tenant: str, segment_id: str) -> Response:
        """PUT /segments/{segmentId}: 201 when created, 204 when replaced."""
        write = parse_segment_input(request.data, context=self.input_context(UPSERT, segment_id))
        result = segment_upsert(
            tenant=self.tenant,
            segment_id=segment_id,
            fields=write.fields,
            expected_version=write.expected_version,
        )
        if result.created:
            return Response({"id": segment_id}, status=201)
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        operation_id="PATCH-customer-segment-update-segment",
        summary="Patching a customer segment",
        description="An RFC 6902 JSON Patch (array of operations) or an RFC 7396 JSON Merge "
        "Patch (object), applied to the segment's JSON form and validated like a PUT. `id` "
        "and the metadata timestamps cannot be patched; replacing `/metadata/version` states "
        "the version you expect (409 when it is not the stored one), as does a failed `test`. "
        "An `add` into a mixin map (`/mixins/...`, `/metadata/mixins/...`) creates the objects "
        "missing on its way, so it works on a segment without mixins; an operation that "
        'cannot be applied is a 400 naming it, e.g. `"replace" at /mixins/a/b: the segment '
        'has no mixin "a"`.',
        parameters=[SEGMENT_ID, CONTENT_LANGUAGE],
        request={
            # Plain JSON: an array is a JSON Patch, an object a merge patch.
            "application/json": PolymorphicProxySerializer(
                component_name="SegmentPatch",
                serializers=[PatchOperationSerializer(many=True), SegmentMergePatchSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            "application/json-patch+json": PatchOperationSerializer(many=True),
            "application/merge-patch+json": SegmentMergePatchSerializer,
        },
        examples=[
            OpenApiExample(
                "Update a status",
                [{"op": "replace", "path": "/status", "value": "INACTIVE"}],
                request_only=True,
                media_type="application/json",
            )
        ],
        responses={204: OpenApiResponse(description="Updated."), **errors(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request: Request, tenant: str, segment_id: str) -> Response:
        """PATCH /segments/{segmentId}."""
        change = segment_patch_change(request.data, context=self.input_context(PATCH, segment_id))
        segment_patch(tenant=self.tenant, segment_id=segment_id, change=change)
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        operation_id="DELETE-customer-segment-remove-segment",
        summary="Deleting a customer segment",
        description="Deletes the segment; one with customers or items assigned only with "
        "`forceDelete=true`, which deletes those assignments with it.",
        parameters=[SEGMENT_ID, FORCE_DELETE],
        responses={204: OpenApiResponse(description="Deleted."), **errors(400, 401, 403, 404)},
    )
    def destroy(self, request: Request, tenant: str, segment_id: str) -> Response:
        """DELETE /segments/{segmentId}[?forceDelete=true]."""
        force = query_flag(request, "forceDelete")
        segment_delete(tenant=self.tenant, segment_id=segment_id, force=force)
        return Response(status=204)

    # --- bulk -----------------------------------------------------------------------------

    @extend_schema(
        tags=TAGS,
        operation_id="POST-customer-segment-create-segments-bulk",
        summary="Creating customer segments in bulk",
        description="Creates up to 200 segments. One bad element never blocks the others; "
        "an id taken, or repeated in the request, is a 409 for its element.",
        parameters=[CONTENT_LANGUAGE],
        request=SegmentInputSerializer(many=True),
        responses={207: BULK_RESULTS, **errors(400, 401, 403)},
    )
    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk_create(self, request: Request, tenant: str) -> Response:
        """POST /segments/bulk."""
        elements = bulk_elements(request.data)
        writes, failures = segment_writes(elements, context=self.input_context(BULK_CREATE))
        results = segments_bulk_create(tenant=self.tenant, writes=writes)
        return Response(bulk_body(bulk_merge(failures, results)), status=207)

    @bulk_create.mapping.put
    @extend_schema(
        tags=TAGS,
        operation_id="PUT-customer-segment-update-segments-bulk",
        summary="Upserting customer segments in bulk",
        description="Creates (201) or replaces (204) up to 200 segments, each naming its "
        "`id`. A stale `metadata.version` is a 409 for its element only.",
        parameters=[CONTENT_LANGUAGE],
        request=SegmentInputSerializer(many=True),
        responses={207: BULK_RESULTS, **errors(400, 401, 403)},
    )
    def bulk_upsert(self, request: Request, tenant: str) -> Response:
        """PUT /segments/bulk."""
        elements = bulk_elements(request.data)
        writes, failures = segment_writes(elements, context=self.input_context(BULK_UPSERT))
        results = segments_bulk_upsert(tenant=self.tenant, writes=writes)
        return Response(bulk_body(bulk_merge(failures, results)), status=207)

    @bulk_create.mapping.delete
    @extend_schema(
        tags=TAGS,
        operation_id="DELETE-customer-segment-remove-segments-bulk",
        summary="Deleting customer segments in bulk",
        description='Deletes up to 200 segments named in an array of ids: `["a", "b"]`, '
        'or in `{"ids": ["a", "b"]}`.',
        parameters=[FORCE_DELETE],
        request=bulk_delete_body(ID_ELEMENT),
        responses={207: BULK_RESULTS, **errors(400, 401, 403)},
    )
    def bulk_delete(self, request: Request, tenant: str) -> Response:
        """DELETE /segments/bulk[?forceDelete=true]."""
        segment_ids, failures = segment_ids_input(bulk_delete_elements(request.data))
        force = query_flag(request, "forceDelete")
        results = segments_bulk_delete(tenant=self.tenant, segment_ids=segment_ids, force=force)
        return Response(bulk_body(bulk_merge(failures, results)), status=207)

    # --- match ----------------------------------------------------------------------------

    @extend_schema(
        tags=TAGS,
        operation_id="POST-customer-segment-check-match",
        summary="Checking which items belong to segment",
        description="Returns, in request order, the products that one of the given segments "
        "(effective now, of that site) holds directly or through a category assignment of "
        "the product's category or any of its ancestors.",
        request=MatchInputSerializer,
        examples=[
            OpenApiExample(
                "Match",
                {
                    "siteCode": "main",
                    "items": [{"id": "p1234"}, {"id": "p2345"}],
                    "segmentIds": ["S1234", "S2456"],
                },
                request_only=True,
            )
        ],
        responses={200: MatchItemSerializer(many=True), **errors(400, 401, 403)},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def match(self, request: Request, tenant: str) -> Response:
        """POST /segments/match."""
        site_code, product_ids, segment_ids = parse_match_input(request.data)
        matched = matching_product_ids(
            tenant=self.tenant,
            site_code=site_code,
            product_ids=product_ids,
            segment_ids=segment_ids,
        )
        return Response([{"id": product_id} for product_id in matched])


EXTERNAL_ID = Segment._meta.get_field("external_id")


def _one_segment(view: SegmentViewSet, values: dict[str, Any]) -> QuerySet[Segment]:
    """The rows `retrieve` reads: the segment of the path among what the caller may see."""
    return segment_lookup(
        tenant=view.tenant, segment_id=values["segment_id"], queryset=view.get_queryset()
    )
