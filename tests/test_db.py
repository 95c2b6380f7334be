"""`rows_update`: one statement for many rows, the same result as `bulk_update`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from segments.choices import EventType
from segments.models import Event, Segment
from segmentservice.db import rows_insert, rows_update
from tests.factories import make_segment


@pytest.mark.django_db
def test_writes_every_given_field_of_every_row_in_one_query(
    tenant, other_tenant, django_assert_num_queries
):
    rows = [make_segment(tenant, f"s{i}") for i in range(5)]
    untouched = make_segment(other_tenant, "s0", name={"en": "Theirs"})
    when = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    for i, row in enumerate(rows):
        row.name = {"en": f"Renamed {i}", "de": "Umbenannt"}
        row.mixins = {"a": {"b": [i, None, True, 'q"uote,{}']}}
        row.valid_to = when if i % 2 else None
        row.version = 7 + i
        row.site_code = "b2b"  # changed, but not written

    with django_assert_num_queries(1):
        count = rows_update(rows, ["name", "mixins", "valid_to", "version"])

    assert count == 5
    for i, row in enumerate(rows):
        stored = Segment.objects.get(pk=row.pk)
        assert stored.name == {"en": f"Renamed {i}", "de": "Umbenannt"}
        assert stored.mixins == {"a": {"b": [i, None, True, 'q"uote,{}']}}
        assert stored.valid_to == (when if i % 2 else None)
        assert stored.version == 7 + i
        assert stored.site_code == "main"
    untouched.refresh_from_db()
    assert untouched.name == {"en": "Theirs"}


@pytest.mark.django_db
def test_nothing_to_write_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_update([], ["name"]) == 0


@pytest.mark.django_db
def test_rows_insert_writes_every_column_in_order_in_one_query(tenant, django_assert_num_queries):
    when = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    payloads = [{"id": f"s{i}", "a": [i, None, True, 'q"uote,{}\\'], "b": {}} for i in range(5)]
    rows = [
        Event(
            tenant=tenant,
            type=EventType.SEGMENT_UPDATED,
            resource_id=f"s{i}",
            payload=payload,
            created_at=when,
        )
        for i, payload in enumerate(payloads)
    ]

    with django_assert_num_queries(1):
        assert rows_insert(rows) == 5

    stored = list(Event.objects.filter(tenant=tenant).order_by("id"))
    assert [e.resource_id for e in stored] == [f"s{i}" for i in range(5)]
    assert [e.payload for e in stored] == payloads
    assert {(e.type, e.created_at) for e in stored} == {(EventType.SEGMENT_UPDATED, when)}


@pytest.mark.django_db
def test_rows_insert_of_nothing_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_insert([]) == 0
