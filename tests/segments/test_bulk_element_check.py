"""The quick check of bulk segment elements accepts only what the serializer accepts, alike."""

from __future__ import annotations

import pytest

from segments.api.serializers.segments import (
    BULK_CREATE,
    BULK_UPSERT,
    SegmentInputSerializer,
    _plain_element,
    _segment_write,
)

ELEMENTS = [
    {"id": "gold", "name": {"en": "Gold", "de": "Gold"}, "siteCode": "main"},
    {"id": "gold", "name": "Gold", "description": "Best", "siteCode": "main", "status": "ACTIVE"},
    {"id": "gold", "name": {"en": "Gold"}, "description": None, "siteCode": "main"},
    {"id": "gold", "name": {"en": "Gold"}, "siteCode": "main", "mixins": {"a": {"b": [1]}}},
    {"id": "gold", "name": {"en": "Gold"}, "siteCode": "main", "mixins": None},
    {"id": "gold", "name": {"en": ""}, "description": "", "siteCode": "my site"},
    {"name": {"en": "Gold"}, "siteCode": "main"},
    # Each of these the quick check leaves to the serializer (some valid, most not).
    {"id": "gold", "name": {}, "siteCode": "main"},
    {"id": "gold", "name": {"xx": "Gold"}, "siteCode": "main"},
    {"id": "gold", "name": {"en": 5}, "siteCode": "main"},
    {"id": "gold", "name": None, "siteCode": "main"},
    {"id": "gold", "siteCode": "main"},
    {"id": "gold", "name": "Gold"},
    {"id": "gold", "name": "Gold", "siteCode": " main "},
    {"id": "gold", "name": "Gold", "siteCode": "   "},
    {"id": "gold", "name": "Gold", "siteCode": ""},
    {"id": "gold", "name": "Gold", "siteCode": 5},
    {"id": "gold", "name": "Gold", "siteCode": "m" * 65},
    {"id": "gold", "name": "Gold", "siteCode": "ma\x00in"},
    {"id": "gold", "name": "Gold", "siteCode": "mäin"},
    {"id": " gold", "name": "Gold", "siteCode": "main"},
    {"id": "go ld", "name": "Gold", "siteCode": "main"},
    {"id": "", "name": "Gold", "siteCode": "main"},
    {"id": "g" * 65, "name": "Gold", "siteCode": "main"},
    {"id": 7, "name": "Gold", "siteCode": "main"},
    {"id": "match", "name": "Gold", "siteCode": "main"},
    {"id": "gold", "name": "Gold", "siteCode": "main", "status": "active"},
    {"id": "gold", "name": "Gold", "siteCode": "main", "status": ["ACTIVE"]},
    {"id": "gold", "name": "Gold", "siteCode": "main", "status": None},
    {"id": "gold", "name": "Gold", "siteCode": "main", "mixins": []},
    {"id": "gold", "name": "Gold", "siteCode": "main", "mixins": "x"},
    {"id": "gold", "name": "Gold", "siteCode": "main", "validity": {"from": None}},
    {"id": "gold", "name": "Gold", "siteCode": "main", "metadata": {"version": 2}},
    {"id": "gold", "name": "Gold", "siteCode": "main", "unknown": 1},
    ["not", "an", "object"],
    None,
]


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [BULK_CREATE, BULK_UPSERT])
@pytest.mark.parametrize("language", [None, "de"])
@pytest.mark.parametrize("element", ELEMENTS)
def test_quick_check_agrees_with_the_serializer(tenant, mode, language, element):
    context = {"tenant": tenant, "content_language": language, "mode": mode}
    serializer = SegmentInputSerializer(data=element, context=context)
    valid = serializer.is_valid()

    plain = _plain_element(element, context)

    if plain is None:
        return  # the serializer decides, and words any error
    assert valid, serializer.errors
    assert _segment_write(plain, context, 3) == serializer.to_write(3)


@pytest.mark.django_db
def test_the_common_elements_take_the_quick_way(tenant):
    context = {"tenant": tenant, "content_language": None, "mode": BULK_UPSERT}
    assert all(_plain_element(element, context) is not None for element in ELEMENTS[:6])
