"""Staff users limited to some tenants see and change only those; superusers see all."""

from __future__ import annotations

import pytest
from django.test import Client

from segments.models import Customer, Segment
from tests.factories import (
    assign_customer,
    make_category,
    make_customer,
    make_legal_entity,
    make_product,
    make_segment,
)

CHANGELISTS = [
    "segments/segment",
    "segments/customerassignment",
    "segments/itemassignment",
    "segments/customer",
    "segments/legalentity",
    "segments/product",
    "segments/category",
    "segments/event",
    "segments/webhookendpoint",
    "tenants/apiclient",
    "tenants/tenant",
]


def autocomplete(client, model: str, field: str, term: str = "", **params):
    query = {"app_label": "segments", "model_name": model, "field_name": field, "term": term}
    return client.get("/admin/autocomplete/", {**query, **params})


def ids(response) -> list[str]:
    return sorted(result["text"] for result in response.json()["results"])


@pytest.fixture
def two_tenants(tenant, other_tenant):
    """One segment, customer, product and category in each tenant."""
    for t, name in ((tenant, "acme"), (other_tenant, "globex")):
        segment = make_segment(t, f"{name}-seg")
        assign_customer(segment, make_customer(t, f"{name}-cust"))
        make_product(t, f"{name}-prod", code=f"{name}-prod")
        make_category(t, f"{name}-cat", code=f"{name}-cat")
        make_legal_entity(t, f"{name}-le")
    return tenant, other_tenant


@pytest.mark.django_db
class TestStaffLimitedToATenant:
    @pytest.mark.parametrize("changelist", CHANGELISTS)
    def test_changelists_show_only_their_tenant(self, staff_client, two_tenants, changelist):
        response = staff_client.get(f"/admin/{changelist}/")

        assert response.status_code == 200
        tenants = {
            getattr(row, "tenant_id", getattr(row, "name", None))
            for row in response.context["cl"].result_list
        }
        assert tenants <= {"acme"}

    def test_rows_of_other_tenants_cannot_be_opened(self, staff_client, two_tenants):
        theirs = Segment.objects.get(external_id="globex-seg")

        response = staff_client.get(f"/admin/segments/segment/{theirs.pk}/change/")

        assert response.status_code == 302  # the admin's "does not exist" redirect
        assert response.url == "/admin/"

    def test_actions_cannot_reach_other_tenants(self, staff_client, two_tenants):
        theirs = Segment.objects.get(external_id="globex-seg")

        staff_client.post(
            "/admin/segments/segment/",
            {"action": "deactivate", "_selected_action": [theirs.pk]},
        )

        theirs.refresh_from_db()
        assert theirs.status == "ACTIVE"

    def test_tenant_filter_offers_only_their_tenants(self, staff_client, two_tenants):
        response = staff_client.get("/admin/segments/segment/")

        tenant_filter = next(f for f in response.context["cl"].filter_specs if f.title == "tenant")
        assert [value for value, _ in tenant_filter.lookup_choices] == ["acme"]

    @pytest.mark.parametrize(
        ("model", "field", "expected"),
        [
            ("customerassignment", "customer", "acme-cust"),
            ("customerassignment", "segment", "acme-seg"),
            ("itemassignment", "product", "acme-prod"),
            ("itemassignment", "category", "acme-cat"),
        ],
    )
    def test_autocomplete_offers_only_their_rows(
        self, staff_client, two_tenants, model, field, expected
    ):
        response = autocomplete(staff_client, model, field)

        assert response.status_code == 200
        [text] = ids(response)
        assert expected in text

    def test_autocomplete_for_another_tenant_is_empty(self, staff_client, two_tenants):
        response = autocomplete(staff_client, "customerassignment", "customer", tenant="globex")

        assert response.json()["results"] == []

    def test_add_goes_straight_to_their_only_tenant(self, staff_client, two_tenants):
        response = staff_client.get("/admin/segments/segment/add/")

        assert response.context["adminform"].form["tenant"].value() == "acme"

    def test_naming_another_tenant_is_forbidden(self, staff_client, two_tenants):
        response = staff_client.get("/admin/segments/segment/add/?tenant=globex")

        assert response.status_code == 403

    def test_new_rows_land_in_their_tenant(self, staff_client, two_tenants):
        response = staff_client.post(
            "/admin/segments/customer/add/",
            {
                "tenant": "globex",
                "external_id": "new",
                "first_name": "N",
                "last_name": "",
                "email": "",
                "attributes": "",
                **inline_management("customerlegalentity_set", "customerlegalentity_set-2"),
            },
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Customer.objects.get(external_id="new").tenant_id == "acme"

    def test_they_do_not_manage_users_or_change_tenants(self, staff_client, two_tenants):
        assert staff_client.get("/admin/auth/user/").status_code == 403
        assert staff_client.get("/admin/tenants/tenant/add/").status_code == 403
        own = staff_client.get("/admin/tenants/tenant/acme/change/")
        assert own.status_code == 200
        assert own.context["has_change_permission"] is False  # view only
        assert staff_client.get("/admin/tenants/tenant/globex/change/").status_code == 302


@pytest.mark.django_db
def test_staff_without_tenants_see_nothing(make_staff, two_tenants):
    client = Client()
    client.force_login(make_staff())

    index = client.get("/admin/")
    segments = client.get("/admin/segments/segment/")

    assert index.context["app_list"] == []
    assert segments.status_code == 403


@pytest.mark.django_db
def test_staff_with_two_tenants_choose_one_when_adding(make_staff, two_tenants):
    client = Client()
    client.force_login(make_staff(*two_tenants))

    chooser = client.get("/admin/segments/segment/add/")
    listing = client.get("/admin/segments/segment/")

    assert chooser.templates[0].name == "admin/tenants/choose_tenant.html"
    assert sorted(r.tenant_id for r in listing.context["cl"].result_list) == ["acme", "globex"]


@pytest.mark.django_db
def test_superusers_see_every_tenant(su_client, two_tenants):
    response = su_client.get("/admin/segments/customer/")
    results = autocomplete(su_client, "customerassignment", "customer")

    assert sorted(r.tenant_id for r in response.context["cl"].result_list) == ["acme", "globex"]
    assert len(results.json()["results"]) == 2


def inline_management(*prefixes: str) -> dict[str, str]:
    """The management form of empty inline formsets."""
    data = {}
    for prefix in prefixes:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data
