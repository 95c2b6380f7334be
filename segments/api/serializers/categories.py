"""Category trees as the API shows them (`GET /segments/items/category-trees`).

    [{"id": "12468504", "code": "123", "name": {"en": "Tools"}, "position": 0,
      "published": true, "isSegmentAssigned": false,
      "subcategories": [{"id": "12468505", "parentId": "12468504", "code": "234", ...,
                         "isSegmentAssigned": true}]}]

`parentId` appears on every node but the roots; `subcategories` on every node that has
some (leaves carry none, as in the reference example); other optional fields only when set.
`name`, `localizedDescription` and `localizedSlug` follow Accept-Language.
"""

from __future__ import annotations

from rest_framework import serializers

from segmentservice.api.serializers import ValidityRepresentationSerializer


class CategoryTreeNodeSerializer(serializers.Serializer):
    """One category of a customer's tree; `subcategories` are nodes of the same shape."""

    id = serializers.CharField()
    parentId = serializers.CharField(required=False, help_text="Absent on roots.")
    code = serializers.CharField()
    name = serializers.JSONField(help_text="Map language → text, or text (Accept-Language).")
    localizedDescription = serializers.JSONField(required=False)
    localizedSlug = serializers.JSONField(required=False)
    ecn = serializers.ListField(child=serializers.CharField(), required=False)
    validity = ValidityRepresentationSerializer(required=False)
    position = serializers.IntegerField()
    published = serializers.BooleanField()
    isSegmentAssigned = serializers.BooleanField()
    subcategories = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Child categories, by position."
    )
