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

from typing import Any

from rest_framework import serializers

from segments.api.serializers.segments import validity_document
from segments.selectors.categories import CategoryTreeNode
from segmentservice.api.languages import localize
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


def category_tree_document(
    node: CategoryTreeNode, *, languages: list[str] | None, default_language: str
) -> dict[str, Any]:
    """The wire form of a node and, recursively, of its subcategories."""
    category = node.category
    document: dict[str, Any] = {"id": category.external_id}
    if node.parent_external_id is not None:
        document["parentId"] = node.parent_external_id
    document["code"] = category.code
    name = localize(category.name, languages, default_language)
    document["name"] = name if name is not None else ""
    for key, values in (
        ("localizedDescription", category.description),
        ("localizedSlug", category.slug),
    ):
        if values:
            document[key] = localize(values, languages, default_language)
    if category.ecn:
        document["ecn"] = list(category.ecn)
    validity = validity_document(category.valid_from, category.valid_to)
    if validity:
        document["validity"] = validity
    document["position"] = category.position
    document["published"] = category.published
    document["isSegmentAssigned"] = node.is_segment_assigned
    if node.subcategories:
        document["subcategories"] = [
            category_tree_document(child, languages=languages, default_language=default_language)
            for child in node.subcategories
        ]
    return document
