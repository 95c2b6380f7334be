"""Reads of tenants: `tenant_get` on every request, and `tenant_rows`, the one way a layer
keeps a queryset to its tenant."""

from __future__ import annotations

import pytest
from django.db.models import Q

from segments.models import ItemAssignment, Segment
from tenants.exceptions import UnknownTenant
from tenants.models import Tenant
from tenants.selectors import tenant_get, tenant_rows
from tests.factories import assign_product, make_product, make_segment


@pytest.mark.django_db
def test_tenant_get_loads_the_row_as_the_orm_does(tenant):
    loaded = tenant_get(name="acme")
    stored = Tenant.objects.get(name="acme")
    fields = ("name", "default_language", "languages", "created_at")
    assert [getattr(loaded, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert loaded.languages == ["en", "de", "fr"]
    assert loaded.created_at.tzinfo is not None
    assert not loaded._state.adding
    with pytest.raises(UnknownTenant, match="Tenant 'nobody' does not exist"):
        tenant_get(name="nobody")


@pytest.fixture
def segments(tenant, other_tenant):
    for t in (tenant, other_tenant):
        assign_product(make_segment(t, "s"), make_product(t, "p"))


def tenant_conditions(queryset, table: str) -> int:
    return str(queryset.query).count(f'"{table}"."tenant_id" =')


@pytest.mark.django_db
class TestTenantRows:
    def test_keeps_a_queryset_to_the_tenant(self, segments, tenant):
        rows = tenant_rows(Segment.objects.all(), tenant=tenant)
        assert list(rows.values_list("tenant_id", flat=True)) == ["acme"]

    def test_does_not_repeat_the_condition(self, segments, tenant):
        rows = tenant_rows(Segment.objects.filter(tenant=tenant, status="ACTIVE"), tenant=tenant)
        assert tenant_conditions(tenant_rows(rows, tenant=tenant), "segments_segment") == 1
        by_id = Segment.objects.filter(tenant_id="acme")
        assert tenant_conditions(tenant_rows(by_id, tenant=tenant), "segments_segment") == 1

    @pytest.mark.parametrize(
        "queryset",
        [
            lambda t, o: Segment.objects.filter(Q(tenant=t) | Q(tenant=o)),
            lambda t, o: Segment.objects.exclude(tenant=o).filter(tenant=o) | Segment.objects.all(),
            lambda t, o: Segment.objects.filter(tenant=o),
        ],
        ids=["or", "widened", "other-tenant"],
    )
    def test_filters_again_when_the_condition_is_not_plainly_there(
        self, segments, tenant, other_tenant, queryset
    ):
        rows = tenant_rows(queryset(tenant, other_tenant), tenant=tenant)
        assert set(rows.values_list("tenant_id", flat=True)) <= {"acme"}

    def test_a_joined_tables_tenant_is_not_the_rows_tenant(self, segments, tenant):
        joined = ItemAssignment.objects.filter(segment__tenant=tenant)
        rows = tenant_rows(joined, tenant=tenant)
        assert tenant_conditions(rows, "segments_itemassignment") == 1

    def test_nothing_is_not_every_row(self, tenant):
        with pytest.raises(TypeError, match="queryset"):
            tenant_rows(None, tenant=tenant)
