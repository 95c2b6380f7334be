"""What the assignment viewsets share: the segment a per-segment read goes through."""

from __future__ import annotations

from segments.api.views.base import TenantScopedViewSet
from segments.models import Segment
from segments.selectors.segments import segment_get


class SegmentChildViewSet(TenantScopedViewSet):
    """A viewset under `/segments/{segmentId}/...` (or reading across segments).

    A customer caller (segment_read_own) reads only through its own effective segments;
    any other segment is a 404 to it, so it learns nothing about segments it is not in.
    """

    def readable_segment(self, segment_id: str) -> Segment:
        """The segment a read goes through; raises SegmentNotFound (404) if not visible.

        Read once per request: the action and `safely_get_queryset` both ask for it.
        """
        readable = self.__dict__.setdefault("_readable_segments", {})
        if segment_id not in readable:
            readable[segment_id] = segment_get(
                tenant=self.tenant, segment_id=segment_id, queryset=self.visible_segments()
            )
        return readable[segment_id]
