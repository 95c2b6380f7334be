"""The per-process tenant cache on the request path."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tenants.exceptions import UnknownTenant
from tenants.selectors import tenant_get_cached
from tenants.services import tenant_create


@pytest.mark.django_db
def test_a_tenant_is_read_once_then_remembered(django_assert_num_queries):
    tenant_create(name="acme", default_language="en", languages=["en", "de"])

    with django_assert_num_queries(1):
        first = tenant_get_cached(name="acme")
        again = tenant_get_cached(name="acme")

    assert again is first


@pytest.mark.django_db
def test_saving_a_tenant_forgets_the_remembered_one():
    tenant = tenant_create(name="acme", default_language="en", languages=["en", "de"])
    assert tenant_get_cached(name="acme").languages == ["en", "de"]

    tenant.languages = ["en", "de", "fr"]
    tenant.save()

    assert tenant_get_cached(name="acme").languages == ["en", "de", "fr"]


@pytest.mark.django_db
def test_unknown_tenants_are_not_remembered():
    with pytest.raises(UnknownTenant):
        tenant_get_cached(name="later")
    tenant_create(name="later")

    assert tenant_get_cached(name="later").name == "later"


@pytest.mark.django_db
@override_settings(TENANT_CACHE_SECONDS=0)
def test_a_zero_ttl_reads_the_tenant_every_time(django_assert_num_queries):
    tenant_create(name="acme")

    with django_assert_num_queries(2):
        tenant_get_cached(name="acme")
        tenant_get_cached(name="acme")
