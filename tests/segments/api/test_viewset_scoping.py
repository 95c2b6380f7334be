"""The scoping mechanism of `TenantScopedViewSet`: subclasses refine rows, they cannot widen them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from segments.api.views.base import OWN, READ_OR_OWN, TenantScopedViewSet
from segments.choices import SegmentStatus
from segments.models import Customer, Segment
from tests.conftest import READ, READ_OWN
from tests.factories import assign_customer, make_customer, make_segment


@pytest.mark.parametrize("name", ["get_queryset", "visible_segments", "initial"])
def test_a_subclass_cannot_override_the_scoping(name):
    with pytest.raises(ImproperlyConfigured, match=f"overrides {name}"):
        type("SneakyViewSet", (TenantScopedViewSet,), {name: lambda self, *args, **kwargs: None})


class CarelessViewSet(TenantScopedViewSet):
    """A viewset whose hook forgets the queryset it is given."""

    queryset = Segment.objects.none()
    required_scopes = {"rows": READ_OR_OWN, "own_only": OWN, "other_model": READ_OR_OWN}
    calls: list = []

    def safely_get_queryset(self, queryset):
        if self.action == "other_model":
            return Customer.objects.all()
        return Segment.objects.all()  # every tenant's segments, on purpose

    def rows(self, request: Request, tenant: str) -> Response:
        return Response(sorted(self.get_queryset().values_list("tenant_id", "external_id")))

    def own_only(self, request: Request, tenant: str) -> Response:
        self.calls.append(self.customer)
        return Response({"customer": self.customer.customer_id})

    def other_model(self, request: Request, tenant: str) -> Response:
        return Response(list(self.get_queryset().values_list("pk", flat=True)))


def call(action: str, token: str, tenant: str = "acme") -> Response:
    view = CarelessViewSet.as_view({"get": action})
    request = APIRequestFactory().get(
        f"/customer-segment/{tenant}/x", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    return view(request, tenant=tenant)


@pytest.fixture
def world(tenant, other_tenant):
    for t in (tenant, other_tenant):
        me = make_customer(t, "me")
        assign_customer(make_segment(t, "mine"), me)
        assign_customer(make_segment(t, "mine-inactive", status=SegmentStatus.INACTIVE), me)
        make_segment(t, "others")


@pytest.mark.django_db
class TestTheHook:
    def test_what_the_hook_returns_is_kept_to_the_tenant(self, world, make_token):
        response = call("rows", make_token("acme", READ))
        assert response.status_code == 200
        assert response.data == [("acme", "mine"), ("acme", "mine-inactive"), ("acme", "others")]

    def test_and_to_the_customers_own_effective_segments(self, world, make_token):
        response = call("rows", make_token("acme", READ_OWN, customer="me"))
        assert response.data == [("acme", "mine")]

    def test_a_hook_returning_rows_of_another_model_is_refused(self, world, make_token):
        with pytest.raises(ImproperlyConfigured, match="Customer"):
            call("other_model", make_token("acme", READ))

    def test_a_customer_action_is_never_called_without_a_customer(self, world, make_token):
        CarelessViewSet.calls = []
        for token in (make_token("acme", READ, READ_OWN), make_token("acme", READ_OWN)):
            response = call("own_only", token)
            assert response.status_code == 403
            assert response.data["message"] == (
                "A customersegment.segment_read_own token must carry a customerId."
            )
        assert CarelessViewSet.calls == []
        response = call("own_only", make_token("acme", READ_OWN, customer="me"))
        assert response.data == {"customer": "me"}
