"""Routes under `/customer-segment/{tenant}/`.

Literal paths (`search`, `bulk`, `match`, `items`) come before the `{segmentId}` routes
so they are never taken for segment ids.
"""

from django.urls import path

from segments.api.views.segments import SegmentViewSet

segments_collection = SegmentViewSet.as_view({"get": "list", "post": "create"})
segments_search = SegmentViewSet.as_view({"post": "search"})
segments_bulk = SegmentViewSet.as_view(
    {"post": "bulk_create", "put": "bulk_upsert", "delete": "bulk_delete"}
)
segments_match = SegmentViewSet.as_view({"post": "match"})
segment_detail = SegmentViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("segments", segments_collection, name="segment-list"),
    path("segments/search", segments_search, name="segment-search"),
    path("segments/bulk", segments_bulk, name="segment-bulk"),
    path("segments/match", segments_match, name="segment-match"),
    path("segments/<str:segment_id>", segment_detail, name="segment-detail"),
]
