"""The segment workspace's members: manual, rule-made and inherited through a group, marked,
searched and paged as one list; each row explains itself ("why?")."""

from __future__ import annotations

import pytest

from segments.choices import AssignmentType, GroupUserType
from segments.models import Segment
from tests.factories import (
    assign_customer,
    assign_group,
    make_customer,
    make_group,
    make_legal_entity,
    make_segment,
)
from tests.querycounts import assert_same_queries

BASE = "/admin/segments/segment"


def members_url(segment: Segment) -> str:
    return f"{BASE}/{segment.pk}/members/"


@pytest.fixture
def spring(tenant) -> Segment:
    return make_segment(tenant, "spring", name={"en": "Spring VIP"})


@pytest.mark.django_db
class TestInheritedMembers:
    def test_members_of_an_assigned_group_show_marked_inherited(self, su_client, tenant, spring):
        company = make_legal_entity(tenant, "le-1", name="Schmidt GmbH")
        anna = make_customer(tenant, "anna", first_name="Anna", email="anna@x.io")
        bert = make_customer(tenant, "bert", first_name="Bert")
        cora = make_customer(tenant, "cora", first_name="Cora")
        assign_customer(spring, anna)
        assign_customer(spring, cora, assignment_type=AssignmentType.AUTOMATIC)
        wholesale = make_group(tenant, "wholesale", name={"en": "Wholesale"}, members=[bert, anna])
        bound = make_group(tenant, "b2b", members=[cora], legal_entity=company)
        staff = make_group(tenant, "staff", members=[anna], user_type=GroupUserType.EMPLOYEE)
        assign_group(spring, wholesale)
        assign_group(spring, bound)
        assign_group(make_segment(tenant, "other"), make_group(tenant, "elsewhere", members=[bert]))
        del staff  # an employee group is never assigned: it counts for nothing

        response = su_client.get(members_url(spring))

        assert response.status_code == 200
        rows = [
            (r.customer.external_id, r.legal_entity_id, r.label) for r in response.context["rows"]
        ]
        assert sorted(rows, key=str) == sorted(
            [
                ("anna", None, "manual"),
                ("anna", None, "inherited (group Wholesale)"),
                ("bert", None, "inherited (group Wholesale)"),
                ("cora", None, "rule"),
                ("cora", "le-1", "inherited (group b2b)"),
            ],
            key=str,
        )
        html = response.content.decode()
        assert 'kind-group">inherited (group Wholesale)<' in html
        assert "Schmidt GmbH (le-1)" in html
        # An inherited member is removed through the group, not ticked here.
        assert html.count('name="key"') == 2
        assert "<strong>5</strong> customers" in html

    def test_inherited_members_are_searched_like_the_others(self, su_client, tenant, spring):
        anna = make_customer(tenant, "nc-1", first_name="Anna", email="anna@x.io")
        bert = make_customer(tenant, "zz-2", first_name="Bert", email="bert@y.io")
        assign_customer(spring, anna)
        assign_group(spring, make_group(tenant, "g", members=[bert]))

        def found(term: str) -> list[str]:
            response = su_client.get(members_url(spring), {"q": term})
            return [row.customer.external_id for row in response.context["rows"]]

        assert found("") == ["nc-1", "zz-2"]
        assert found("zz") == ["zz-2"]
        assert found("bert") == ["zz-2"]
        assert found("y.io") == ["zz-2"]
        assert found("anna") == ["nc-1"]
        assert found("-2") == []

    def test_manual_and_inherited_members_page_together(self, su_client, tenant, spring):
        group = make_group(tenant, "g")
        for n in range(60):
            customer = make_customer(tenant, f"c{n:03d}")
            if n % 2:
                assign_customer(spring, customer)
            else:
                group.groupmember_set.create(tenant=tenant, customer=customer)
        assign_group(spring, group)

        first = su_client.get(members_url(spring))
        second = su_client.get(members_url(spring), {"p": 2})

        ids = [r.customer.external_id for r in first.context["rows"]]
        assert ids == [f"c{n:03d}" for n in range(50)]
        assert [r.customer.external_id for r in second.context["rows"]] == [
            f"c{n:03d}" for n in range(50, 60)
        ]
        assert {r.inherited for r in first.context["rows"]} == {True, False}
        assert "page 1 of 2" in first.content.decode()

    def test_each_row_links_to_why_the_customer_is_in(self, su_client, tenant, spring):
        bert = make_customer(tenant, "bert")
        assign_group(spring, make_group(tenant, "g", members=[bert]))
        html = su_client.get(members_url(spring)).content.decode()
        link = f"/admin/segments/segmentrule/explain/?segment={spring.pk}&amp;customer=bert"
        assert f'class="member-why" href="{link}"' in html

        explained = su_client.get(
            "/admin/segments/segmentrule/explain/", {"segment": spring.pk, "customer": "bert"}
        )
        assert explained.status_code == 200
        html = explained.content.decode()
        assert "GROUP" in html and "member of group g, which is assigned to the segment" in html
        assert "Remove ticked customers" not in su_client.get(members_url(spring)).content.decode()


def _grow(tenant, spring, group, n: int) -> None:
    for _ in range(n):
        assign_customer(spring, make_customer(tenant, first_name="Ada"))
        assign_customer(
            spring,
            make_customer(tenant, first_name="Ada"),
            assignment_type=AssignmentType.AUTOMATIC,
        )
        group.groupmember_set.create(
            tenant=tenant, customer=make_customer(tenant, first_name="Ada")
        )


@pytest.mark.django_db
@pytest.mark.parametrize("search", ["", "Ada"])
def test_the_members_page_costs_the_same_for_one_row_and_many(su_client, tenant, spring, search):
    group = make_group(tenant, "g", name={"en": "G"})
    assign_group(spring, group)
    other = make_group(tenant, "g2", name={"en": "G2"})
    assign_group(spring, other)
    other.groupmember_set.create(tenant=tenant, customer=make_customer(tenant, first_name="Ada"))
    _grow(tenant, spring, group, 1)
    key = (
        "admin.workspace.members_all_kinds_searched"
        if search
        else "admin.workspace.members_all_kinds"
    )
    check = assert_same_queries(key, status=200)
    su_client.get(members_url(spring))
    first = check(lambda: su_client.get(members_url(spring), {"q": search}))
    assert len(first.context["rows"]) == 4
    _grow(tenant, spring, group, 20)
    many = check(lambda: su_client.get(members_url(spring), {"q": search}))
    assert len(many.context["rows"]) == 50
