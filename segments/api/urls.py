"""Routes under `/customer-segment/{tenant}/`.

Literal paths (`search`, `bulk`, `match`, `items`) come before the `{segmentId}` routes
so they are never taken for segment ids; likewise `customers/search` and `customers/bulk`
before `customers/{customerId}`, and `items/{type}/bulk` before `items/{type}/{itemId}`.
"""

from django.urls import path

from segments.api.views.customer_assignments import CustomerAssignmentViewSet
from segments.api.views.item_assignments import ItemAssignmentViewSet
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

items_all = ItemAssignmentViewSet.as_view({"get": "all_items"})
items_category_trees = ItemAssignmentViewSet.as_view({"get": "category_trees"})
items_collection = ItemAssignmentViewSet.as_view({"get": "list"})
items_search = ItemAssignmentViewSet.as_view({"post": "search"})
items_bulk = ItemAssignmentViewSet.as_view({"put": "bulk_upsert", "delete": "bulk_destroy"})
item_detail = ItemAssignmentViewSet.as_view(
    {"get": "retrieve", "put": "upsert", "delete": "destroy"}
)

customers_collection = CustomerAssignmentViewSet.as_view({"get": "list"})
customers_search = CustomerAssignmentViewSet.as_view({"post": "search"})
customers_bulk = CustomerAssignmentViewSet.as_view({"put": "bulk_upsert", "delete": "bulk_destroy"})
customer_b2c = CustomerAssignmentViewSet.as_view(
    {"get": "retrieve_b2c", "put": "upsert_b2c", "delete": "destroy_b2c"}
)
customer_b2b = CustomerAssignmentViewSet.as_view(
    {"get": "retrieve_b2b", "put": "upsert_b2b", "delete": "destroy_b2b"}
)

SEGMENT = "segments/<str:segment_id>"

urlpatterns = [
    path("segments", segments_collection, name="segment-list"),
    path("segments/search", segments_search, name="segment-search"),
    path("segments/bulk", segments_bulk, name="segment-bulk"),
    path("segments/match", segments_match, name="segment-match"),
    path("segments/items", items_all, name="segment-items-all"),
    path("segments/items/category-trees", items_category_trees, name="segment-category-trees"),
    path(SEGMENT, segment_detail, name="segment-detail"),
    # Customer assignments.
    path(f"{SEGMENT}/customers", customers_collection, name="customer-assignment-list"),
    path(f"{SEGMENT}/customers/search", customers_search, name="customer-assignment-search"),
    path(f"{SEGMENT}/customers/bulk", customers_bulk, name="customer-assignment-bulk"),
    path(
        f"{SEGMENT}/customers/<str:customer_id>",
        customer_b2c,
        name="customer-assignment-b2c",
    ),
    path(
        f"{SEGMENT}/customers/<str:customer_id>/<str:legal_entity_id>",
        customer_b2b,
        name="customer-assignment-b2b",
    ),
    # Item assignments.
    path(f"{SEGMENT}/items", items_collection, name="item-assignment-list"),
    path(f"{SEGMENT}/items/search", items_search, name="item-assignment-search"),
    path(f"{SEGMENT}/items/<str:type>/bulk", items_bulk, name="item-assignment-bulk"),
    path(f"{SEGMENT}/items/<str:type>/<str:item_id>", item_detail, name="item-assignment-detail"),
]
