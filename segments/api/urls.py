"""Routes under `/customer-segment/{tenant}/`.

Literal paths (`search`, `bulk`, `match`, `items`) come before the `{segmentId}` routes
so they are never taken for segment ids.
"""

from django.urls import path

from segments.api.views.segments import SegmentViewSet

segments_collection = SegmentViewSet.as_view({"get": "list"})
segments_search = SegmentViewSet.as_view({"post": "search"})
segment_detail = SegmentViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    path("segments", segments_collection, name="segment-list"),
    path("segments/search", segments_search, name="segment-search"),
    path("segments/<str:segment_id>", segment_detail, name="segment-detail"),
]
