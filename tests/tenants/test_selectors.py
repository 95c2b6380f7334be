"""Reads of tenants: `tenant_get`, on every request."""

from __future__ import annotations

import pytest

from tenants.exceptions import UnknownTenant
from tenants.models import Tenant
from tenants.selectors import tenant_get


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
