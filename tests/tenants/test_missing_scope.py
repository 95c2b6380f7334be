"""A 403 for a missing scope names it in `details`, one `missing scope: <scope>` each (SPEC §9).

The platform's client SDK reads `details` to tell the caller which scope to ask for; a 403
for another tenant's token is about the tenant, not a scope, and carries none.
"""

from __future__ import annotations

import pytest

from tests.conftest import MANAGE, READ, READ_OWN
from tests.factories import make_segment


def forbidden(*scopes: str) -> dict:
    """The body of a 403 for a token holding none of `scopes` (those the operation accepts)."""
    return {
        "code": 403,
        "status": "Forbidden",
        "message": f"The token lacks the scope this operation needs: one of {', '.join(scopes)}.",
        "details": [f"missing scope: {scope}" for scope in scopes],
    }


@pytest.fixture
def gold(tenant):
    return make_segment(tenant, "gold")


@pytest.mark.django_db
class TestMissingScope:
    def test_write_with_a_read_token(self, tenant, gold, make_client):
        response = make_client(tenant, READ).put(
            "/customer-segment/acme/segments/gold", {"name": {"en": "Gold"}}, format="json"
        )
        assert response.status_code == 403
        assert response.json() == forbidden(MANAGE)

    def test_delete_with_a_read_own_customer_token(self, tenant, gold, make_client):
        response = make_client(tenant, READ_OWN, customer="ada").delete(
            "/customer-segment/acme/segments/gold"
        )
        assert response.status_code == 403
        assert response.json() == forbidden(MANAGE)

    def test_read_with_a_manage_only_token(self, tenant, gold, make_client):
        response = make_client(tenant, MANAGE).get("/customer-segment/acme/segments/gold")
        assert response.status_code == 403
        assert response.json() == forbidden(READ, READ_OWN)

    def test_match_without_manage(self, tenant, gold, make_client):
        response = make_client(tenant, READ).post(
            "/customer-segment/acme/segments/match", {"customerId": "ada"}, format="json"
        )
        assert response.status_code == 403
        assert response.json() == forbidden(MANAGE)

    def test_read_own_token_on_a_reader_only_route(self, tenant, gold, make_client):
        client = make_client(tenant, READ_OWN, customer="ada")
        response = client.post(
            "/customer-segment/acme/segments/gold/customers/search", {"q": ""}, format="json"
        )
        assert response.status_code == 403
        assert response.json() == forbidden(READ)
        response = client.get("/customer-segment/acme/segments/gold/customers/ada")
        assert response.status_code == 403
        assert response.json() == forbidden(READ)

    def test_read_token_on_the_customer_only_category_trees(self, tenant, make_client):
        response = make_client(tenant, READ).get(
            "/customer-segment/acme/segments/items/category-trees"
        )
        assert response.status_code == 403
        assert response.json() == forbidden(READ_OWN)

    def test_another_tenants_token_has_no_scope_details(self, tenant, other_tenant, make_client):
        response = make_client(other_tenant, MANAGE, READ).get("/customer-segment/acme/segments")
        assert response.status_code == 403
        assert response.json() == {
            "code": 403,
            "status": "Forbidden",
            "message": "The token is for another tenant than 'acme'.",
            "resourceId": "acme",
        }

    def test_a_token_with_the_scope_passes(self, tenant, gold, make_client):
        response = make_client(tenant, MANAGE).post(
            "/customer-segment/acme/segments/match", {"customerId": "ada"}, format="json"
        )
        assert response.status_code != 403
