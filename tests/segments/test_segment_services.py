"""The segment services as the admin and commands call them, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from segments.choices import EventType
from segments.exceptions import AlreadyExists, SegmentNotFound, ValidationFailed, VersionConflict
from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from segments.services.segments import (
    SegmentChange,
    SegmentFields,
    segment_create,
    segment_patch,
    segment_upsert,
    segments_force_delete,
    segments_set_status,
)
from tests.factories import (
    assign_customer,
    assign_product,
    make_customer,
    make_product,
    make_segment,
)

FIELDS = SegmentFields(name={"en": "Gold"}, site_code="main")


@pytest.mark.django_db
class TestSingleWrites:
    def test_create_fills_defaults_and_generates_an_id(self, tenant):
        segment = segment_create(tenant=tenant, fields=FIELDS)
        assert len(segment.external_id) == 24
        assert (segment.status, segment.version, segment.description) == ("INACTIVE", 1, {})
        assert Event.objects.get().type == EventType.SEGMENT_CREATED

    @pytest.mark.parametrize(
        ("fields", "problem"),
        [
            (SegmentFields(name={}, site_code="main"), "name"),
            (SegmentFields(name={"en": "x"}, site_code=" "), "siteCode"),
            (SegmentFields(name={"en": "x"}, site_code="m", status="ON"), "status"),
            (
                SegmentFields(
                    name={"en": "x"},
                    site_code="m",
                    valid_from=datetime(2025, 1, 1, tzinfo=UTC),
                    valid_to=datetime(2024, 1, 1, tzinfo=UTC),
                ),
                "validity",
            ),
        ],
    )
    def test_the_rules_hold_whoever_calls(self, tenant, fields, problem):
        with pytest.raises(ValidationFailed, match=problem):
            segment_create(tenant=tenant, fields=fields)
        assert not Segment.objects.exists()

    def test_create_of_a_taken_id_raises(self, tenant):
        make_segment(tenant, "gold")
        with pytest.raises(AlreadyExists):
            segment_create(tenant=tenant, fields=FIELDS, segment_id="gold")

    def test_upsert_checks_the_version_and_merges_single_language_names(self, tenant):
        make_segment(tenant, "gold", name={"en": "Gold", "de": "Gold"})
        with pytest.raises(VersionConflict):
            segment_upsert(tenant=tenant, segment_id="gold", fields=FIELDS, expected_version=9)
        fields = SegmentFields(
            name={"fr": "Or"}, site_code="main", merge_languages=frozenset({"name"})
        )
        result = segment_upsert(tenant=tenant, segment_id="gold", fields=fields, expected_version=1)
        assert not result.created
        assert result.segment.name == {"en": "Gold", "de": "Gold", "fr": "Or"}
        assert Segment.objects.get().version == 2

    def test_patch_runs_the_change_on_the_stored_segment(self, tenant):
        make_segment(tenant, "gold", status="INACTIVE")

        def activate(segment):
            return SegmentChange(
                fields=SegmentFields(
                    name=segment.name, site_code=segment.site_code, status="ACTIVE"
                )
            )

        segment_patch(tenant=tenant, segment_id="gold", change=activate)
        assert Segment.objects.get().status == "ACTIVE"
        with pytest.raises(SegmentNotFound):
            segment_patch(tenant=tenant, segment_id="nope", change=activate)


@pytest.mark.django_db
class TestAdminActions:
    def test_set_status_changes_only_what_differs(self, tenant, other_tenant):
        make_segment(tenant, "a", status="INACTIVE")
        make_segment(tenant, "b", status="ACTIVE")
        theirs = make_segment(other_tenant, "a", status="INACTIVE")
        changed = segments_set_status(
            tenant=tenant, segment_ids=["a", "b", "nope"], status="ACTIVE"
        )
        assert changed == 1
        a = Segment.objects.get(tenant=tenant, external_id="a")
        assert (a.status, a.version) == ("ACTIVE", 2)
        assert Segment.objects.get(tenant=tenant, external_id="b").version == 1
        theirs.refresh_from_db()
        assert theirs.status == "INACTIVE"
        assert list(Event.objects.values_list("type", "resource_id")) == [
            (EventType.SEGMENT_UPDATED, "a")
        ]

    def test_set_status_refuses_unknown_statuses(self, tenant):
        with pytest.raises(ValidationFailed):
            segments_set_status(tenant=tenant, segment_ids=["a"], status="PAUSED")

    def test_force_delete_takes_assignments_along(self, tenant, other_tenant):
        doomed = make_segment(tenant, "a")
        assign_customer(doomed, make_customer(tenant))
        assign_product(doomed, make_product(tenant))
        make_segment(tenant, "b")
        make_segment(other_tenant, "a")
        assert segments_force_delete(tenant=tenant, segment_ids=["a", "nope"]) == 1
        assert list(
            Segment.objects.filter(tenant=tenant).values_list("external_id", flat=True)
        ) == ["b"]
        assert Segment.objects.filter(tenant=other_tenant).count() == 1
        assert not CustomerAssignment.objects.exists() and not ItemAssignment.objects.exists()
        assert list(Event.objects.order_by("id").values_list("type", flat=True)) == [
            EventType.CUSTOMER_ASSIGNMENT_DELETED,
            EventType.ITEM_ASSIGNMENT_DELETED,
            EventType.SEGMENT_DELETED,
        ]
