"""`/customer-segment/{tenant}/segments/items...` and `.../segments/{segmentId}/items...`.

The 9 item operations: items of all segments, a customer's category trees, and per
segment list, search, get, upsert, delete and their bulk forms.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
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
from segmentservice.api.bulk import bulk_elements, bulk_response
from segmentservice.api.schema import (
    ACCEPT_LANGUAGE,
    ASSIGNMENT_BULK_RESPONSES,
    FIELDS_PARAMETER,
    LEGAL_ENTITY_PARAMETER,
    LIST_PARAMETERS,
    NON_BLANK,
    SEARCH_BODY,
    SEARCH_PARAMETERS,
    errors,
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


class ItemAssignmentViewSet(SegmentChildViewSet):
    """Products and categories assigned to segments."""

    queryset = ItemAssignment.objects.none()  # names the model; rows come from get_queryset
    serializer_class = ItemAssignmentSerializer
    required_scopes = {
        "all_items": READ_OR_OWN,
        "category_trees": OWN,
        "list": READ_OR_OWN,
        "search": READ_OR_OWN,
        "retrieve": READ_OR_OWN,
        "upsert": MANAGE,
        "destroy": MANAGE,
        "bulk_upsert": MANAGE,
        "bulk_destroy": MANAGE,
    }

    def render(self, row) -> dict:
        """The wire form of one item assignment for this request."""
        return item_assignment_document(
            row, languages=self.languages, default_language=self.tenant.default_language
        )

    def safely_get_queryset(self, queryset):
        """One readable segment's items, or (`all_items`) those of `siteCode`/`onlyActive`.

        A customer's are those of its own effective segments (`get_queryset` keeps them so).
        """
        if self.action == "all_items":
            rows = item_assignment_list(tenant=self.tenant, queryset=queryset)
            return ItemAssignmentFilterSet.apply(
                self.request.query_params, rows, tenant=self.tenant
            )
        segment = self.readable_segment(self.kwargs["segment_id"])
        return item_assignment_list(tenant=self.tenant, segment=segment, queryset=queryset)

    def _list(self, segment_id: str, *, q_in_body: bool) -> Response:
        return self.list_rows(
            self.get_queryset(),
            field_map=ITEM_ASSIGNMENT_FIELDS,
            tiebreak=TIEBREAK,
            render=self.render,
            q_in_body=q_in_body,
        )

    @extend_schema(
        tags=TAGS,
        summary="Retrieving all items assignments for all customer segments",
        operation_id="GET-customer-segment-retrieve-segments-items",
        parameters=[
            *LIST_PARAMETERS,
            ACCEPT_LANGUAGE,
            LEGAL_ENTITY_PARAMETER,
            SITE_CODE,
            ONLY_ACTIVE,
        ],
        responses={200: ItemAssignmentSerializer(many=True), **errors(400, 401, 403)},
    )
    def all_items(self, request: Request, tenant: str) -> Response:
        """GET /segments/items: a customer sees only its own effective segments' items."""
        return self.list_rows(
            self.get_queryset(),
            field_map=ITEM_ASSIGNMENT_FIELDS,
            tiebreak=ALL_TIEBREAK,
            render=self.render,
        )

    @extend_schema(
        tags=TAGS,
        summary="Retrieving category trees for a customer segments",
        operation_id="GET-customer-segment-retrieve-category-trees",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER, SITE_CODE],
        responses={200: CategoryTreeNodeSerializer(many=True), **errors(400, 401, 403)},
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

    @extend_schema(
        tags=TAGS,
        summary="Retrieving all item assignments for a customer segment",
        operation_id="GET-customer-segment-retrieve-segment-items",
        parameters=[*LIST_PARAMETERS, ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        responses={200: ItemAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def list(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}/items."""
        return self._list(segment_id, q_in_body=False)

    @extend_schema(
        tags=TAGS,
        summary="Searching item assignments for a customer segment",
        operation_id="POST-customer-segment-search-items",
        parameters=[*SEARCH_PARAMETERS, ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        request={"application/json": SEARCH_BODY},
        responses={200: ItemAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def search(self, request: Request, tenant: str, segment_id: str) -> Response:
        """POST /segments/{segmentId}/items/search: the list, with `q` in the body."""
        return self._list(segment_id, q_in_body=True)

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
    def upsert(
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
    def bulk_upsert(self, request: Request, tenant: str, segment_id: str, type: str) -> Response:
        """PUT /segments/{segmentId}/items/{type}/bulk: `[{"id", "mixins", "metadata"}]`."""
        item_type = item_type_parse(type)
        elements = elements_input(
            ItemAssignmentBulkInputSerializer, bulk_elements(request.data), lambda s: s.bulk_input()
        )
        results = item_assignments_bulk_upsert(
            tenant=self.tenant, segment_id=segment_id, type=item_type, elements=elements
        )
        return bulk_response(results, with_id=False)

    @extend_schema(
        tags=TAGS,
        summary="Deleting item assignments to a customer segment in bulk",
        operation_id="DELETE-customer-segment-remove-items-bulk",
        parameters=[TYPE],
        request={"application/json": {"type": "array", "items": {"type": "string"}}},
        responses=ASSIGNMENT_BULK_RESPONSES,
    )
    def bulk_destroy(self, request: Request, tenant: str, segment_id: str, type: str) -> Response:
        """DELETE /segments/{segmentId}/items/{type}/bulk: `["id1", "id2"]`."""
        item_type = item_type_parse(type)
        item_ids = []
        for element in bulk_elements(request.data):
            item_id = item_id_input(element)
            item_ids.append(
                item_id
                if item_id is not None
                else ValidationFailed(
                    f"Each element must be an item id (a non-empty string), not "
                    f"{json.dumps(element)[:100]}."
                )
            )
        results = item_assignments_bulk_delete(
            tenant=self.tenant, segment_id=segment_id, type=item_type, item_ids=item_ids
        )
        return bulk_response(results, with_id=False)
