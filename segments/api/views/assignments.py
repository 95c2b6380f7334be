"""What the assignment viewsets share: which segments the caller may read through."""

from __future__ import annotations

from django.db.models import QuerySet

from segments.api.views.base import TenantViewSet
from segments.models import Segment
from segments.selectors.segments import segment_get, segment_list


class SegmentChildViewSet(TenantViewSet):
    """A viewset under `/segments/{segmentId}/...` (or reading across segments).

    A customer caller (segment_read_own) reads only through its own effective segments;
    any other segment is a 404 to it, so it learns nothing about segments it is not in.
    """

    def own_segments(self) -> QuerySet[Segment] | None:
        """A customer caller's effective segments; None for callers who may read all."""
        own = self.own_customer()
        if own is None:
            return None
        customer_id, legal_entity_id = own
        return segment_list(
            tenant=self.tenant,
            customer_id=customer_id,
            legal_entity_id=legal_entity_id,
            only_effective=True,
        )

    def readable_segment(self, segment_id: str) -> Segment:
        """The segment a read goes through; raises SegmentNotFound (404) if not visible."""
        return segment_get(tenant=self.tenant, segment_id=segment_id, queryset=self.own_segments())
