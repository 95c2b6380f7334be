"""`/customer-segment/{tenant}/segments/{segmentId}/groups...`: the 5 group operations.

A reader (segment_read) sees every group assignment of a segment; a customer
(segment_read_own) only those of its own effective segments through which it belongs
(`segments.selectors.visibility`).
"""

from __future__ import annotations

from django.db.models import F
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from segments.api.serializers.group_assignments import (
    GroupAssignmentSerializer,
    GroupAssignmentUpsertInputSerializer,
)
from segments.api.views.assignments import SegmentChildViewSet
from segments.api.views.base import MANAGE, READ_OR_OWN
from segments.documents import group_assignment_document
from segments.models import GroupAssignment
from segments.query.fields import GROUP_ASSIGNMENT_FIELDS
from segments.selectors.group_assignments import group_assignment_get, group_assignment_list
from segments.services.group_assignments import group_assignment_delete, group_assignment_upsert
from segmentservice.api.schema import (
    ACCEPT_LANGUAGE,
    FIELDS_PARAMETER,
    LEGAL_ENTITY_PARAMETER,
    SEARCH_BODY,
    errors,
)
from segmentservice.api.serializers import IdResponseSerializer

TAGS = ["Group Assignments"]
# Without `sort`: by group id.
TIEBREAK = (F("group__external_id").asc(),)


class GroupAssignmentViewSet(SegmentChildViewSet):
    """The directory groups assigned to a segment (PREVIEW in the hosted service)."""

    queryset = GroupAssignment.objects.none()  # names the model; rows from get_queryset
    serializer_class = GroupAssignmentSerializer
    lookup_url_kwarg = "group_id"
    query_fields = GROUP_ASSIGNMENT_FIELDS
    ordering_tiebreak = TIEBREAK
    required_scopes = {
        "list": READ_OR_OWN,
        "search": READ_OR_OWN,
        "retrieve": READ_OR_OWN,
        "update": MANAGE,
        "destroy": MANAGE,
    }

    def safely_get_queryset(self, queryset):
        """The readable segment's group assignments (a customer's: see the module docstring)."""
        segment = self.readable_segment(self.kwargs["segment_id"])
        return group_assignment_list(tenant=self.tenant, segment=segment, queryset=queryset)

    def render(self, row: GroupAssignment) -> dict:
        """The wire form of one group assignment for this request."""
        return group_assignment_document(
            row, languages=self.languages, default_language=self.tenant.default_language
        )

    @extend_schema(
        tags=TAGS,
        summary="Retrieving all group assignments for a customer segment",
        operation_id="GET-customer-segment-retrieve-groups",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        responses={200: GroupAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    def list(self, request: Request, tenant: str, segment_id: str) -> Response:
        """GET /segments/{segmentId}/groups."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        summary="Searching with parameters for group assignments",
        operation_id="POST-customer-segment-search-groups",
        parameters=[ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        request={"application/json": SEARCH_BODY},
        responses={200: GroupAssignmentSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @action(detail=False, methods=["post"])
    def search(self, request: Request, tenant: str, segment_id: str) -> Response:
        """POST /segments/{segmentId}/groups/search: the list, with `q` in the body."""
        return self.list_documents(self.render)

    @extend_schema(
        tags=TAGS,
        summary="Retrieving a group assignment for a customer segment",
        operation_id="GET-customer-segment-retrieve-group",
        parameters=[FIELDS_PARAMETER, ACCEPT_LANGUAGE, LEGAL_ENTITY_PARAMETER],
        responses={200: GroupAssignmentSerializer, **errors(401, 403, 404)},
    )
    def retrieve(self, request: Request, tenant: str, segment_id: str, group_id: str) -> Response:
        """GET /segments/{segmentId}/groups/{groupId}."""
        row = group_assignment_get(
            tenant=self.tenant,
            segment=self.readable_segment(segment_id),
            group_id=group_id,
            queryset=self.get_queryset(),
        )
        return self.one_row(row, self.render)

    @extend_schema(
        tags=TAGS,
        summary="Updating a group assignment for a customer segment",
        operation_id="PUT-customer-segment-update-group",
        description="Upsert. Only groups with `userType` CUSTOMER can be assigned; an unknown "
        "group or another kind is a 400 naming it. 201 answers the group's id.",
        request=GroupAssignmentUpsertInputSerializer,
        responses={
            201: OpenApiResponse(
                IdResponseSerializer, description="A new group assignment was created."
            ),
            204: OpenApiResponse(description="The group assignment was updated."),
            **errors(400, 401, 403, 404, 409),
        },
    )
    def update(self, request: Request, tenant: str, segment_id: str, group_id: str) -> Response:
        """PUT /segments/{segmentId}/groups/{groupId}: 201 `{"id"}` created, 204 updated."""
        serializer = GroupAssignmentUpsertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = group_assignment_upsert(
            tenant=self.tenant, segment_id=segment_id, data=serializer.assignment_input(group_id)
        )
        if outcome.created:
            return Response({"id": group_id}, status=201)
        return Response(status=204)

    @extend_schema(
        tags=TAGS,
        summary="Removing a group from customer segment",
        operation_id="DELETE-customer-segment-remove-group",
        request=None,
        responses={
            204: OpenApiResponse(description="The group assignment was removed."),
            **errors(401, 403, 404),
        },
    )
    def destroy(self, request: Request, tenant: str, segment_id: str, group_id: str) -> Response:
        """DELETE /segments/{segmentId}/groups/{groupId}."""
        group_assignment_delete(tenant=self.tenant, segment_id=segment_id, group_id=group_id)
        return Response(status=204)
