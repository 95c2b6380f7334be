"""Every admin page costs a fixed number of queries, whatever the number of rows it shows.

Each case renders a page with one row, adds many more rows, renders it again and asserts
the same number of queries; the budget per page is the checked-in baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.models import (
    Category,
    Customer,
    CustomerLegalEntity,
    Group,
    GroupMember,
    Product,
    ProductCategory,
    Segment,
    WebhookEndpoint,
)
from segments.services.segments import segments_set_status
from tenants.models import StaffTenantAccess, Tenant
from tenants.services import api_client_create
from tests.conftest import READ
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

MANY = 12


@dataclass
class World:
    """The rows a page case grows: one segment, customer, product and category to hang rows on."""

    tenant: Tenant
    segment: Segment
    customer: Customer
    product: Product
    category: Category


def grow_segments(world: World, n: int) -> None:
    for _ in range(n):
        segment = make_segment(world.tenant, name={"en": "S", "de": "S"})
        assign_customer(segment, make_customer(world.tenant))
        assign_product(segment, make_product(world.tenant))
        assign_category(segment, make_category(world.tenant))


def grow_customer_assignments(world: World, n: int) -> None:
    for _ in range(n):
        company = make_legal_entity(world.tenant)
        assign_customer(
            world.segment, make_customer(world.tenant, legal_entities=[company]), company
        )


def grow_item_assignments(world: World, n: int) -> None:
    for _ in range(n):
        assign_product(world.segment, make_product(world.tenant))
        assign_category(world.segment, make_category(world.tenant))


def grow_customers(world: World, n: int) -> None:
    for _ in range(n):
        customer = make_customer(world.tenant, legal_entities=[make_legal_entity(world.tenant)])
        assign_customer(world.segment, customer)


def grow_groups(world: World, n: int) -> None:
    for _ in range(n):
        group = make_group(
            world.tenant,
            legal_entity=make_legal_entity(world.tenant),
            members=[make_customer(world.tenant)],
        )
        assign_group(world.segment, group)


def grow_group_members(world: World, n: int) -> None:
    group = Group.objects.get(external_id="base-group")
    for _ in range(n):
        GroupMember.objects.create(
            tenant=world.tenant, group=group, customer=make_customer(world.tenant)
        )


def grow_legal_entities(world: World, n: int) -> None:
    for _ in range(n):
        make_customer(world.tenant, legal_entities=[make_legal_entity(world.tenant)])


def grow_products(world: World, n: int) -> None:
    for _ in range(n):
        assign_product(world.segment, make_product(world.tenant, categories=[world.category]))


def grow_categories(world: World, n: int) -> None:
    parent = world.category
    for _ in range(n):
        parent = make_category(world.tenant, parent=parent)  # deeper and deeper
        make_product(world.tenant, categories=[parent])


def grow_events(world: World, n: int) -> None:
    for _ in range(n):  # each status switch records one event
        for status in ("INACTIVE", "ACTIVE"):
            segments_set_status(
                tenant=world.tenant, segment_ids=[world.segment.external_id], status=status
            )


def grow_webhooks(world: World, n: int) -> None:
    for i in range(n):
        WebhookEndpoint.objects.create(
            tenant=world.tenant, url=f"https://e.example/{i}", secret="s"
        )


def grow_api_clients(world: World, n: int) -> None:
    for i in range(n):
        api_client_create(tenant=world.tenant, scopes=READ, name=f"c{i}")


def grow_tenants(world: World, n: int) -> None:
    for _ in range(n):
        Tenant.objects.create(name=f"tenant{Tenant.objects.count():02d}", languages=["en"])


def grow_staff(world: World, n: int) -> None:
    for _ in range(n):
        user = get_user_model().objects.create_user(
            f"staff{get_user_model().objects.count()}", is_staff=True
        )
        StaffTenantAccess.objects.create(user=user, tenant=world.tenant)


def grow_memberships(world: World, n: int) -> None:
    for _ in range(n):
        CustomerLegalEntity.objects.create(
            tenant=world.tenant,
            customer=world.customer,
            legal_entity=make_legal_entity(world.tenant),
        )


def grow_product_categories(world: World, n: int) -> None:
    for _ in range(n):
        ProductCategory.objects.create(
            tenant=world.tenant, product=world.product, category=make_category(world.tenant)
        )


def grow_children(world: World, n: int) -> None:
    for _ in range(n):
        make_product(world.tenant, categories=[make_category(world.tenant, parent=world.category)])


PAGES: list[tuple[str, Callable[[World], str], Callable[[World, int], None], int]] = [
    # (name, url, grow, query budget)
    ("segment list", lambda w: "/admin/segments/segment/", grow_segments, 6),
    ("segment list searched", lambda w: "/admin/segments/segment/?q=S", grow_segments, 6),
    (
        "segment form",
        lambda w: f"/admin/segments/segment/{w.segment.pk}/change/",
        grow_item_assignments,
        8,  # with the tenant's site codes offered, and the rule editor's rule and counts
    ),
    (
        "customer assignment list",
        lambda w: "/admin/segments/customerassignment/",
        grow_customer_assignments,
        5,
    ),
    (
        "customer assignments of a segment",
        lambda w: f"/admin/segments/customerassignment/?segment={w.segment.pk}",
        grow_customer_assignments,
        7,  # titled by its segment
    ),
    ("item assignment list", lambda w: "/admin/segments/itemassignment/", grow_item_assignments, 5),
    ("customer list", lambda w: "/admin/segments/customer/", grow_customers, 5),
    (
        "customer form",
        lambda w: f"/admin/segments/customer/{w.customer.pk}/change/",
        grow_memberships,
        9,  # the segments the customer is in (directly, through groups), their legal entities
    ),
    ("legal entity list", lambda w: "/admin/segments/legalentity/", grow_legal_entities, 5),
    ("group list", lambda w: "/admin/segments/group/", grow_groups, 5),
    (
        "group form",
        lambda w: f"/admin/segments/group/{Group.objects.get(external_id='base-group').pk}/change/",
        grow_group_members,
        6,
    ),
    ("product list", lambda w: "/admin/segments/product/", grow_products, 5),
    (
        "product form",
        lambda w: f"/admin/segments/product/{w.product.pk}/change/",
        grow_product_categories,
        6,
    ),
    ("category list", lambda w: "/admin/segments/category/", grow_categories, 6),
    (
        "category form",
        lambda w: f"/admin/segments/category/{w.category.pk}/change/",
        grow_children,
        5,
    ),
    ("event list", lambda w: "/admin/segments/event/", grow_events, 5),
    ("webhook list", lambda w: "/admin/segments/webhookendpoint/", grow_webhooks, 5),
    ("API client list", lambda w: "/admin/tenants/apiclient/", grow_api_clients, 6),
    ("tenant list", lambda w: "/admin/tenants/tenant/", grow_tenants, 5),
    (
        "customer autocomplete",
        lambda w: "/admin/autocomplete/?app_label=segments&model_name=customerassignment"
        "&field_name=customer&tenant=acme&term=",
        grow_customers,
        4,
    ),
    (
        "category autocomplete",
        lambda w: "/admin/autocomplete/?app_label=segments&model_name=itemassignment"
        "&field_name=category&tenant=acme&term=",
        grow_categories,
        4,
    ),
    ("user list", lambda w: "/admin/auth/user/", grow_staff, 7),
    ("index", lambda w: "/admin/", grow_segments, 3),
]


@pytest.fixture
def world(tenant) -> World:
    segment = make_segment(tenant, "base")
    customer = make_customer(tenant)
    product = make_product(tenant)
    category = make_category(tenant)
    assign_customer(segment, customer)
    make_group(tenant, "base-group", members=[customer])
    return World(tenant, segment, customer, product, category)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url", "grow", "budget"), PAGES, ids=[p[0] for p in PAGES])
def test_same_queries_for_one_row_and_many(su_client, world, name, url, grow, budget):
    grow(world, 1)
    su_client.get(url(world))  # the session, content types and templates are cached from here
    one = count_queries(su_client, url(world))

    grow(world, MANY)
    many = count_queries(su_client, url(world))

    assert many == one, f"{name}: {one} queries for one row, {many} for many"
    assert many <= budget, f"{name}: {many} queries, over the budget of {budget}"


@pytest.mark.django_db
def test_staff_pages_cost_one_more_query_for_their_tenants(staff_client, world):
    grow_segments(world, 1)
    staff_client.get("/admin/segments/segment/")
    one = count_queries(staff_client, "/admin/segments/segment/")

    grow_segments(world, MANY)

    assert count_queries(staff_client, "/admin/segments/segment/") == one
