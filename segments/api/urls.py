"""Routes under `/customer-segment/{tenant}/`, built by a router from the viewsets' actions.

The router lists a viewset's routes in a fixed order: its collection, then its
`@action(detail=False)` paths, then `{lookup}`, then its `@action(detail=True)` paths. So
literal paths (`search`, `bulk`, `match`) come before the `{segmentId}` routes and are
never taken for segment ids; likewise `customers/search` and `customers/bulk` before
`customers/{customerId}`, `groups/search` before `groups/{groupId}`, and
`items/{type}/bulk` before `items/{type}/{itemId}`. The
items of all segments (`segments/items...`) and the caller's own (`segments/me`) are
registered before the segments, so neither `items` nor `me` is taken for a segment id.
"""

from rest_framework.routers import SimpleRouter

from segments.api.views.customer_assignments import CustomerAssignmentViewSet
from segments.api.views.group_assignments import GroupAssignmentViewSet
from segments.api.views.item_assignments import AllSegmentsItemViewSet, ItemAssignmentViewSet
from segments.api.views.me import MeSegmentsViewSet, SegmentsMeViewSet
from segments.api.views.rules import MatchExplainViewSet, SegmentRuleViewSet
from segments.api.views.segments import SegmentViewSet


class ContractRouter(SimpleRouter):
    """Path-style routes without a trailing slash, as the contract spells them.

    A viewset whose instances are named by more than one path segment declares them
    whole in `lookup_path` (e.g. `<str:type>/<str:item_id>`).
    """

    def __init__(self) -> None:
        super().__init__(trailing_slash=False, use_regex_path=False)

    def get_lookup_regex(self, viewset, lookup_prefix: str = "") -> str:
        """The viewset's `lookup_path` if it has one, else one `<str:...>` segment."""
        return getattr(viewset, "lookup_path", None) or super().get_lookup_regex(
            viewset, lookup_prefix
        )


SEGMENT = "segments/<str:segment_id>"

router = ContractRouter()
router.register("segments/items", AllSegmentsItemViewSet, basename="segment-items")
router.register("segments/me", SegmentsMeViewSet, basename="segments-me")
router.register("me/segments", MeSegmentsViewSet, basename="me-segments")
# Before the segments: `segments/match/explain` is not the explain of a segment "match".
router.register("segments/match", MatchExplainViewSet, basename="match-explain")
router.register("segments", SegmentViewSet, basename="segment")
# Extensions (SPEC §12): `segments/{segmentId}/rule`, `.../rule/preview`, `.../explain`.
router.register(SEGMENT, SegmentRuleViewSet, basename="segment-rule")
router.register(f"{SEGMENT}/customers", CustomerAssignmentViewSet, basename="customer-assignment")
router.register(f"{SEGMENT}/items", ItemAssignmentViewSet, basename="item-assignment")
router.register(f"{SEGMENT}/groups", GroupAssignmentViewSet, basename="group-assignment")

urlpatterns = router.urls
