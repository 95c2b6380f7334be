"""`/customer-segment/{tenant}/segments/items...` and `.../segments/{segmentId}/items...`.

The 9 item operations: items of all segments, a customer's category trees, and per
segment list, search, get, upsert, delete and their bulk forms.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.assignments import elements_input
from segments.api.serializers.categories import CategoryTreeNodeSerializer
from segments.api.serializers.item_assignments import (
    ItemAssignmentBulkInputSerializer,
    ItemAssignmentSerializer,
    ItemAssignmentUpsertInputSerializer,
    item_id_input,
)
from segments.api.views.assignments import SegmentChildViewSet
from segments.api.views.base import MANAGE, OWN, READ_OR_OWN
from segments.documents import category_tree_document, item_assignment_document
from segments.filtersets import ItemAssignmentFilterSet, SiteFilterSet
from segments.models import ItemAssignment
from segments.query.fields import ITEM_ASSIGNMENT_FIELDS
from segments.selectors.categories import category_trees
from segments.selectors.item_assignments import (
    item_assignment_get,
    item_assignment_list,
    item_type_parse,
)
from segments.services.item_assignments import (
    item_assignment_delete,
    item_assignment_upsert,
    item_assignments_bulk_delete,
    item_assignments_bulk_upsert,
)
from segmentservice.api.schema import (
    ACCEPT_LANGUAGE,
    ASSIGNMENT_BULK_RESPONSES,
    FIELDS_PARAMETER,
    ID_ELEMENT,
    LEGAL_ENTITY_PARAMETER,
    NON_BLANK,
    SEARCH_BODY,
    bulk_delete_body,
    errors,
)
from segmentservice.bulk import (
    BulkItemResult,
    bulk_body,
    bulk_delete_elements,
    bulk_elements,
    bulk_merge,
)
from segmentservice.exceptions import ValidationFailed

TAGS = ["Items Assignments"]
SITE_CODE = OpenApiParameter(
    "siteCode", NON_BLANK, description="Only items of this site's segments."
)
ONLY_ACTIVE = OpenApiParameter(
    "onlyActive",
    bool,
    description="Only items of effective segments (always so for segment_read_own).",
)
TYPE = OpenApiParameter(
    "type",
    {
        "type": "string",
        "pattern": "^([Pp][Rr][Oo][Dd][Uu][Cc][Tt]|[Cc][Aa][Tt][Ee][Gg][Oo][Rr][Yy])$",
    },
    OpenApiParameter.PATH,
    description="PRODUCT or CATEGORY, in any letter case.",
)
# Without `sort`: by item type, then item id (and, across segments, segment id first).
TIEBREAK = ("type", "item_external_id")
ALL_TIEBREAK = ("segment__external_id", *TIEBREAK)


class ItemRowsViewSet(SegmentChildViewSet):
    """What the two item viewsets share: the rows' model and their wire form."""

    queryset = ItemAssignment.objects.none()  # names the model; rows come from get_queryset
    serializer_class = ItemAssignmentSerializer

    def render(self, row) -> dict:
        """The wire form of one item assignment for this request."""
        return item_assignment_document(
            row, languages=self.languages, default_language=self.tenant.default_language
        )


class AllSegmentsItemViewSet(ItemRowsViewSet):
    """`/segments/items...`: the items of all segments, and a customer's category trees."""

    required_scopes = {"list": READ_OR_OWN, "category_trees": OWN}
    query_fields = ITEM_ASSIGNMENT_FIELDS
    ordering_tiebreak = ALL_TIEBREAK

    def safely_get_queryset(self, queryset):
        """The items of the segments of `siteCode` (and effective ones, `onlyActive`).

        A customer's are those of its own effective segments (`get_queryset` keeps them so).
        """
        rows = item_assignment_list(tenant=self.tenant, queryset=queryset)
        return ItemAssignmentFilterSet.apply(self.request.query_params, rows, tenant=self.tenant)

    @extend_schema(
        tags=TAGS,
        summary="Retrieving all items assignments for all customer segments",
        operation_id="GET-customer-segment-retrieve-segments-items",
        parameters=[
            ACCEPT_LANGUAGE,
            LEGAL_ENTITY_PARAMETER,
            SITE_CODE,
            ONLY_ACTIVE,
        ],
        responses={200: ItemAssignmentSerializer(many=True), **errors(400, 401, 403)},
    )
    def list(self, request: Request, tenant: str) -> Response:
        """GET /segments/items: a customer sees only its own effective segments' items."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        summary="Retrieving category trees for a customer segments",
        operation_id="GET-customer-segment-retrieve-category-trees",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER, SITE_CODE],
        responses={200: CategoryTreeNodeSerializer(many=True), **errors(400, 401, 403)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="category-trees",
        filter_backends=[],
        pagination_class=None,
    )
    def category_trees(self, request: Request, tenant: str) -> Response:
        """GET /segments/items/category-trees: the customer's effective segments' categories."""
        segments = SiteFilterSet.apply(
            request.query_params, self.visible_segments(), tenant=self.tenant
        )
        trees = category_trees(tenant=self.tenant, segments=segments)
        languages, default = self.languages, self.tenant.default_language
        return Response(
            [
                category_tree_document(t, languages=languages, default_language=default)
                for t in trees
            ]
        )


class ItemAssignmentViewSet(ItemRowsViewSet):
    """`/segments/{segmentId}/items...`: the products and categories assigned to a segment."""

    lookup_path = "<str:type>/<str:item_id>"
    query_fields = ITEM_ASSIGNMENT_FIELDS
    ordering_tiebreak = TIEBREAK
    required_scopes = {
        "list": READ_OR_OWN,
        "search": READ_OR_OWN,
        "retrieve": READ_OR_OWN,
        "update": MANAGE,
        "destroy": MANAGE,
        "bulk_upsert": MANAGE,
        "bulk_destroy": MANAGE,
    }

    def safely_get_queryset(self, queryset):
        """One readable segment's items; a customer's only if it is one of its own."""
        segment = self.readable_segment(self.kwargs["segment_id"])
        return item_assignment_list(tenant=self.tenant, segment=segment, queryset=queryset)

    @extend_schema(
        tags=TAGS,
        summary="Retrieving all item assignments for a customer segment",
        operation_id="GET-customer-segment-retrieve-segment-items",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        responses={200: ItemAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def list(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}/items."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        summary="Searching item assignments for a customer segment",
        operation_id="POST-customer-segment-search-items",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        request={"application/json": SEARCH_BODY},
        responses={200: ItemAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @action(detail=False, methods=["post"])
    def search(self, request: Request, tenant: str, segment_id: str) -> Response:
        """POST /segments/{segmentId}/items/search: the list, with `q` in the body."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        summary="Retrieving an item assignment",
        operation_id="GET-customer-segment-retrieve-item",
        parameters=[TYPE, FIELDS_PARAMETER, ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        responses={200: ItemAssignmentSerializer, **errors(400, 401, 403, 404)},
    )
    def retrieve(
        self, request: Request, tenant: str, segment_id: str, type: str, item_id: str
    ) -> Response:
        """GET /segments/{segmentId}/items/{type}/{itemId}."""
        item_type = item_type_parse(type)
        segment = self.readable_segment(segment_id)
        row = item_assignment_get(
            tenant=self.tenant,
            segment=segment,
            type=item_type,
            item_id=item_id,
            queryset=self.get_queryset(),
        )
        return self.one_row(row, self.render)

    @extend_schema(
        tags=TAGS,
        summary="Updating an item assignment",
        operation_id="PUT-customer-segment-update-item",
        parameters=[TYPE],
        request=ItemAssignmentUpsertInputSerializer,
        responses={
            201: OpenApiResponse(description="A new item assignment was created (no body)."),
            204: OpenApiResponse(description="The item assignment was updated."),
            **errors(400, 401, 403, 404, 409),
        },
    )
    def update(
        self, request: Request, tenant: str, segment_id: str, type: str, item_id: str
    ) -> Response:
        """PUT /segments/{segmentId}/items/{type}/{itemId}: 201 created, 204 updated."""
        item_type = item_type_parse(type)
        serializer = ItemAssignmentUpsertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = item_assignment_upsert(
            tenant=self.tenant,
            segment_id=segment_id,
            type=item_type,
            data=serializer.assignment_input(item_id),
        )
        return Response(status=201 if outcome.created else 204)

    @extend_schema(
        tags=TAGS,
        summary="Removing an assignment",
        operation_id="DELETE-customer-segment-remove-item",
        parameters=[TYPE],
        request=None,
        responses={
            204: OpenApiResponse(description="The item assignment was removed."),
            **errors(400, 401, 403, 404),
        },
    )
    def destroy(
        self, request: Request, tenant: str, segment_id: str, type: str, item_id: str
    ) -> Response:
        """DELETE /segments/{segmentId}/items/{type}/{itemId}."""
        item_assignment_delete(
            tenant=self.tenant, segment_id=segment_id, type=item_type_parse(type), item_id=item_id
        )
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        summary="Updating item assignments to a customer segment in bulk",
        operation_id="PUT-customer-segment-update-items-bulk",
        parameters=[TYPE],
        request=ItemAssignmentBulkInputSerializer(many=True),
        responses=ASSIGNMENT_BULK_RESPONSES,
    )
    @action(detail=False, methods=["put"], url_path="<str:type>/bulk", url_name="bulk")
    def bulk_upsert(self, request: Request, tenant: str, segment_id: str, type: str) -> Response:
        """PUT /segments/{segmentId}/items/{type}/bulk: `[{"id", "mixins", "metadata"}]`."""
        item_type = item_type_parse(type)
        elements, failures = elements_input(
            ItemAssignmentBulkInputSerializer,
            bulk_elements(request.data),
            lambda s, data: s.bulk_input(data),
        )
        results = item_assignments_bulk_upsert(
            tenant=self.tenant, segment_id=segment_id, type=item_type, elements=elements
        )
        return Response(bulk_body(bulk_merge(failures, results), with_id=False), status=207)

    @bulk_upsert.mapping.delete
    @extend_schema(
        tags=TAGS,
        summary="Deleting item assignments to a customer segment in bulk",
        operation_id="DELETE-customer-segment-remove-items-bulk",
        parameters=[TYPE],
        description='An array of item ids, `["p1", "p2"]`, or `{"ids": ["p1", "p2"]}`.',
        request=bulk_delete_body(ID_ELEMENT),
        responses=ASSIGNMENT_BULK_RESPONSES,
    )
    def bulk_destroy(self, request: Request, tenant: str, segment_id: str, type: str) -> Response:
        """DELETE /segments/{segmentId}/items/{type}/bulk: `["id1", "id2"]`."""
        item_type = item_type_parse(type)
        item_ids, failures = [], []
        for index, element in enumerate(bulk_delete_elements(request.data), start=1):
            item_id = item_id_input(element)
            if item_id is not None:
                item_ids.append((index, item_id))
                continue
            error = ValidationFailed(
                f"Each element must be an item id (a non-empty string), not "
                f"{json.dumps(element)[:100]}."
            )
            failures.append(BulkItemResult.failed(index=index, error=error))
        results = item_assignments_bulk_delete(
            tenant=self.tenant, segment_id=segment_id, type=item_type, item_ids=item_ids
        )
        return Response(bulk_body(bulk_merge(failures, results), with_id=False), status=207)
