"""Each response has one description the OpenAPI document shows and one function that renders it.

The output serializers (`SegmentSerializer`, ...) only describe; `segments.documents`
renders. These tests render rows with every optional member and with none, and check that
each rendered key is a declared field of the serializer (recursively) and that every field
the schema calls required is rendered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework import serializers

from segments.api.serializers.categories import CategoryTreeNodeSerializer
from segments.api.serializers.customer_assignments import (
    CustomerAssignmentB2CSerializer,
    CustomerAssignmentSerializer,
)
from segments.api.serializers.group_assignments import GroupAssignmentSerializer
from segments.api.serializers.item_assignments import ItemAssignmentSerializer
from segments.api.serializers.segments import SegmentSerializer
from segments.documents import (
    category_tree_document,
    customer_assignment_document,
    group_assignment_document,
    item_assignment_document,
    segment_document,
)
from segments.models import CustomerAssignment, ItemAssignment
from segments.selectors.categories import CategoryRow, CategoryTreeNode
from segments.selectors.customer_assignments import customer_assignment_list
from segments.selectors.group_assignments import group_assignment_list
from segments.selectors.item_assignments import item_assignment_list
from tests.factories import (
    assign_category,
    assign_customer,
    assign_group,
    assign_product,
    make_category,
    make_customer,
    make_group,
    make_legal_entity,
    make_product,
    make_segment,
)

START = datetime(2024, 4, 17, 8, 0, tzinfo=UTC)
END = datetime(2025, 4, 17, 8, 0, tzinfo=UTC)
# None renders maps, a list renders texts: both must fit the description.
LANGUAGE_CHOICES = [None, ["de"]]


def required_fields(serializer: serializers.Serializer) -> set[str]:
    """What the schema marks required in a response: required and read-only fields."""
    return {name for name, field in serializer.fields.items() if field.required or field.read_only}


def problems(document: Any, serializer: serializers.Serializer, where: str = "") -> list[str]:
    """Keys rendered but not declared, and required fields not rendered, with their paths."""
    if not isinstance(document, dict):
        return [f"{where or 'document'}: rendered {type(document).__name__}, declared an object"]
    found = []
    for key, value in document.items():
        field = serializer.fields.get(key)
        if field is None:
            found.append(f"{where}{key}: rendered, not declared")
        elif isinstance(field, serializers.Serializer):
            found.extend(problems(value, field, f"{where}{key}."))
        elif key == "subcategories" and isinstance(serializer, CategoryTreeNodeSerializer):
            for number, child in enumerate(value):
                found.extend(problems(child, serializer, f"{where}{key}[{number}]."))
    found.extend(
        f"{where}{name}: required, not rendered"
        for name in sorted(required_fields(serializer) - set(document))
    )
    return found


def test_the_check_finds_what_it_looks_for():
    # A check that cannot fail is no check.
    assert problems({"id": "a", "extra": 1}, SegmentSerializer()) == [
        "extra: rendered, not declared",
        "metadata: required, not rendered",
        "name: required, not rendered",
        "siteCode: required, not rendered",
        "status: required, not rendered",
    ]
    assert problems({"metadata": {"when": 1}}, ItemAssignmentSerializer())[:1] == [
        "metadata.when: rendered, not declared"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("languages", LANGUAGE_CHOICES)
class TestDocumentsMatchTheirSerializers:
    def test_segment_with_every_member_and_with_none(self, tenant, languages):
        full = make_segment(
            tenant,
            "full",
            name={"en": "Gold", "de": "Gold"},
            description={"en": "Best"},
            valid_from=START,
            valid_to=END,
            mixins={"tier": {"level": 3}},
            metadata_mixins={"tier": "https://example.com/tier.json"},
        )
        bare = make_segment(tenant, "bare")

        for segment in (full, bare):
            document = segment_document(segment, languages=languages, default_language="en")
            assert problems(document, SegmentSerializer()) == []
        assert set(segment_document(full, languages=languages, default_language="en")) == set(
            SegmentSerializer().fields
        )

    def test_customer_assignments_b2c_and_b2b(self, tenant, languages):
        segment = make_segment(tenant)
        company = make_legal_entity(tenant)
        named = make_customer(tenant, legal_entities=[company])
        nameless = make_customer(tenant, first_name="", last_name="", email="")
        b2b = assign_customer(
            segment, named, company, mixins={"a": 1}, metadata_mixins={"a": "https://a"}
        )
        b2c = assign_customer(segment, nameless)
        nameless_company = make_legal_entity(tenant, name="")
        bare_b2b = assign_customer(segment, nameless, nameless_company)

        rows = CustomerAssignment.objects.select_related("customer", "legal_entity")
        listed = list(customer_assignment_list(tenant=tenant, segment=segment))
        assert len(listed) == 3
        for row in [*rows.filter(pk__in=[b2b.pk, b2c.pk, bare_b2b.pk]), *listed]:
            document = customer_assignment_document(row)
            assert problems(document, CustomerAssignmentSerializer()) == []
        assert (
            problems(
                customer_assignment_document(rows.get(pk=b2c.pk)), CustomerAssignmentB2CSerializer()
            )
            == []
        )

    def test_item_assignments_of_products_and_categories(self, tenant, languages):
        segment = make_segment(tenant)
        named = make_product(tenant, name={"en": "Hammer"})
        nameless = make_product(tenant, name={})
        category = make_category(tenant)
        rows = [
            assign_product(segment, named, mixins={"a": 1}, metadata_mixins={"a": "https://a"}),
            assign_product(segment, nameless),
            assign_category(segment, category),
        ]

        # Fresh from a write (related rows), and as lists read them (annotated columns).
        fetched = ItemAssignment.objects.select_related("segment", "product", "category")
        listed = item_assignment_list(tenant=tenant, segment=segment)
        for row in [*fetched.filter(pk__in=[row.pk for row in rows]), *listed]:
            document = item_assignment_document(row, languages=languages, default_language="en")
            assert problems(document, ItemAssignmentSerializer()) == []
        assert len(listed) == 3

    def test_group_assignments_with_every_member_and_with_none(self, tenant, languages):
        segment = make_segment(tenant)
        full = assign_group(
            segment,
            make_group(tenant, name={"en": "Fans"}),
            mixins={"a": 1},
            metadata_mixins={"a": "https://a"},
        )
        assign_group(segment, make_group(tenant, name={}))

        listed = list(group_assignment_list(tenant=tenant, segment=segment))
        assert len(listed) == 2
        for row in listed:
            document = group_assignment_document(row, languages=languages, default_language="en")
            assert problems(document, GroupAssignmentSerializer()) == []
        whole = group_assignment_document(
            next(row for row in listed if row.pk == full.pk), languages=None, default_language="en"
        )
        assert set(whole) == set(GroupAssignmentSerializer().fields)

    def test_category_tree_with_every_member_and_with_none(self, tenant, languages):
        def row(external_id: str, **columns: Any) -> CategoryRow:
            values = {
                "pk": 1,
                "external_id": external_id,
                "code": "C",
                "name": {"en": "Tools"},
                "description": {},
                "slug": {},
                "ecn": [],
                "parent_id": None,
                "position": 0,
                "published": True,
                "valid_from": None,
                "valid_to": None,
            }
            return CategoryRow(**{**values, **columns})

        leaf = CategoryTreeNode(
            category=row("leaf", name={}), is_segment_assigned=True, parent_external_id="root"
        )
        root = CategoryTreeNode(
            category=row(
                "root",
                description={"en": "All tools"},
                slug={"en": "tools"},
                ecn=["e1"],
                valid_from=START,
                valid_to=END,
            ),
            is_segment_assigned=False,
            subcategories=[leaf],
        )

        document = category_tree_document(root, languages=languages, default_language="en")

        assert problems(document, CategoryTreeNodeSerializer()) == []
        assert set(document) | {"parentId"} == set(CategoryTreeNodeSerializer().fields)
        assert "parentId" in document["subcategories"][0]
