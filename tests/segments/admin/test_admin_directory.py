"""The admin of customers, legal entities, products and the category tree."""

from __future__ import annotations

import pytest

from segments.models import Category, CustomerLegalEntity, Product, ProductCategory
from tests.factories import (
    assign_customer,
    make_category,
    make_customer,
    make_legal_entity,
    make_product,
    make_segment,
)
from tests.segments.admin.test_admin_scoping import inline_management

CATEGORIES = "/admin/segments/category/"


def rows(response) -> dict[str, object]:
    return {row.external_id: row for row in response.context["cl"].result_list}


@pytest.mark.django_db
class TestCategoryTree:
    def test_rows_show_their_path_depth_and_product_counts(self, su_client, tenant):
        tools = make_category(tenant, "tools", name={"en": "Tools", "de": "Werkzeuge"})
        saws = make_category(tenant, "saws", parent=tools, name={"en": "Saws"})
        hand = make_category(tenant, "hand", parent=saws, name={"en": "Hand saws"})
        make_product(tenant, categories=[hand])
        make_product(tenant, categories=[hand, saws])

        response = su_client.get(CATEGORIES)

        listed = rows(response)
        assert (listed["tools"].product_count, listed["tools"].child_count) == (0, 1)
        assert (listed["saws"].product_count, listed["saws"].child_count) == (1, 1)
        assert (listed["hand"].product_count, listed["hand"].child_count) == (2, 0)
        html = response.content.decode()
        assert 'data-depth="2"' in html
        assert f'?parent__id__exact={tools.pk}">Tools</a> \u203a ' in html
        assert f'?parent__id__exact={saws.pk}">Saws</a></span>' in html
        assert "<strong>Hand saws</strong>" in html

    def test_subcategory_link_lists_the_children(self, su_client, tenant):
        tools = make_category(tenant, "tools", name={"en": "Tools"})
        make_category(tenant, "saws", parent=tools)
        make_category(tenant, "drills", parent=tools)
        make_category(tenant, "garden")

        response = su_client.get(CATEGORIES, {"parent__id__exact": tools.pk})

        assert sorted(rows(response)) == ["drills", "saws"]
        assert response.context["title"] == f"Subcategories of Tools ({tools.code})"

    def test_top_level_filter(self, su_client, tenant):
        tools = make_category(tenant, "tools")
        make_category(tenant, "saws", parent=tools)

        response = su_client.get(CATEGORIES, {"parent__isempty": "1"})

        assert sorted(rows(response)) == ["tools"]

    def test_edits_localized_texts_per_language(self, su_client, tenant):
        tools = make_category(tenant, "tools", code="T", name={"en": "Tools"})

        response = su_client.post(
            f"{CATEGORIES}{tools.pk}/change/",
            {
                "code": "T",
                "parent": "",
                "position": "3",
                "published": "on",
                "ecn": '["123"]',
                "name_en": "Tools",
                "name_de": "Werkzeuge",
                "name_fr": "",
                "description_en": "All tools",
                "description_de": "",
                "description_fr": "",
                "slug_en": "tools",
                "slug_de": "werkzeuge",
                "slug_fr": "",
                "valid_from_0": "",
                "valid_from_1": "",
                "valid_to_0": "",
                "valid_to_1": "",
            },
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        tools.refresh_from_db()
        assert tools.name == {"en": "Tools", "de": "Werkzeuge"}
        assert tools.slug == {"en": "tools", "de": "werkzeuge"}
        assert (tools.description, tools.ecn, tools.position) == ({"en": "All tools"}, ["123"], 3)

    def test_a_category_cannot_move_under_its_own_descendant(self, su_client, tenant):
        tools = make_category(tenant, "tools", code="T")
        saws = make_category(tenant, "saws", parent=tools)

        response = su_client.post(
            f"{CATEGORIES}{tools.pk}/change/",
            {"code": "T", "parent": saws.pk, "position": "0", "name_en": "Tools"},
        )

        assert response.context["adminform"].form.errors["parent"] == [
            "A category cannot sit under itself or its descendants."
        ]

    def test_parent_must_be_of_the_same_tenant(self, su_client, tenant, other_tenant):
        tools = make_category(tenant, "tools", code="T")
        foreign = make_category(other_tenant, "foreign")

        response = su_client.post(
            f"{CATEGORIES}{tools.pk}/change/",
            {"code": "T", "parent": foreign.pk, "position": "0", "name_en": "Tools"},
        )

        assert "parent" in response.context["adminform"].form.errors
        tools.refresh_from_db()
        assert tools.parent is None

    def test_new_category_ids_are_unique_per_tenant(self, su_client, tenant):
        make_category(tenant, "tools")

        response = su_client.post(
            f"{CATEGORIES}add/?tenant=acme",
            {"external_id": "tools", "code": "T", "position": "0", "name_en": "Tools"},
        )

        assert response.status_code == 200
        assert "already exists" in str(response.context["adminform"].form.errors)
        assert Category.objects.count() == 1


@pytest.mark.django_db
class TestCustomersAndProducts:
    def test_customer_list_counts_segments_and_legal_entities(self, su_client, tenant):
        company = make_legal_entity(tenant)
        ada = make_customer(tenant, "ada", legal_entities=[company])
        for _ in range(2):
            assign_customer(make_segment(tenant), ada)

        response = su_client.get("/admin/segments/customer/")

        row = rows(response)["ada"]
        assert (row.segment_count, row.legal_entity_count) == (2, 1)
        assert f'/admin/segments/customerassignment/?customer={ada.pk}">2</a>' in (
            response.content.decode()
        )

    def test_customer_joins_a_legal_entity_from_its_form(self, su_client, tenant, other_tenant):
        ada = make_customer(tenant, "ada")
        company = make_legal_entity(tenant, "le1")
        foreign = make_legal_entity(other_tenant, "le2")
        data = {
            "external_id": "ada",
            "first_name": "Ada",
            "last_name": "L",
            "email": "",
            "attributes": '{"tier": "vip"}',
            **inline_management("customerlegalentity_set"),
            **inline_management("customerlegalentity_set-2"),
            "customerlegalentity_set-2-TOTAL_FORMS": "2",
            "customerlegalentity_set-2-0-legal_entity": company.pk,
            "customerlegalentity_set-2-1-legal_entity": "",
        }

        response = su_client.post(f"/admin/segments/customer/{ada.pk}/change/", data)
        refused = su_client.post(
            f"/admin/segments/customer/{ada.pk}/change/",
            {**data, "customerlegalentity_set-2-0-legal_entity": foreign.pk},
        )

        assert response.status_code == 302
        membership = CustomerLegalEntity.objects.get()
        assert (membership.tenant_id, membership.legal_entity) == ("acme", company)
        ada.refresh_from_db()
        assert ada.attributes == {"tier": "vip"}
        assert refused.status_code == 200
        assert CustomerLegalEntity.objects.count() == 1

    def test_product_names_per_language_and_categories(self, su_client, tenant):
        tools = make_category(tenant, "tools")

        response = su_client.post(
            "/admin/segments/product/add/?tenant=acme",
            {
                "external_id": "p1",
                "code": "SKU-1",
                "name_en": "Hammer",
                "name_de": "Hammer DE",
                "name_fr": "",
                **inline_management("productcategory_set", "productcategory_set-2"),
                "productcategory_set-2-TOTAL_FORMS": "1",
                "productcategory_set-2-0-category": tools.pk,
            },
        )

        assert response.status_code == 302, response.context["adminform"].form.errors
        product = Product.objects.get()
        assert (product.tenant_id, product.name) == ("acme", {"en": "Hammer", "de": "Hammer DE"})
        assert list(ProductCategory.objects.values_list("category__external_id", flat=True)) == [
            "tools"
        ]
