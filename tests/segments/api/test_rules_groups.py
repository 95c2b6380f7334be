"""Rules meet directory groups (SPEC §12): `groups.id` in a rule's `q`, rules following group
membership changes (import, admin, deletion), explain's `GROUP` reason, the customer page."""

from __future__ import annotations

import pytest
from django.test import Client

from segments.models import CustomerAssignment, Event, Group, GroupMember, LegalEntity
from segments.services.directory.records import DirectoryRecord
from segments.services.directory.writer import directory_import
from segments.services.records import records_delete
from tests.factories import (
    assign_customer,
    assign_group,
    make_customer,
    make_group,
    make_legal_entity,
    make_segment,
)
from tests.querycounts import assert_same_queries
from tests.segments.admin.test_admin_scoping import inline_management

pytestmark = pytest.mark.django_db

BASE = "/customer-segment/acme/segments"
CREATED = "customer-segment.customer-assignment-created"
DELETED = "customer-segment.customer-assignment-deleted"


@pytest.fixture
def client(admin_client_api):
    return admin_client_api


def put_rule(client, segment_id, q, assign="B2C"):
    return client.put(
        f"{BASE}/{segment_id}/rule", {"q": q, "assign": assign, "enabled": True}, format="json"
    )


def automatic(segment_id) -> set[str]:
    return set(
        CustomerAssignment.objects.filter(
            segment__external_id=segment_id, assignment_type="AUTOMATIC"
        ).values_list("customer__external_id", flat=True)
    )


@pytest.fixture
def people(tenant):
    acme = make_legal_entity(tenant, "acme-co", name="Acme Corp")
    ada = make_customer(tenant, "ada", attributes={"tier": "gold"}, legal_entities=[acme])
    bob = make_customer(tenant, "bob", attributes={"tier": "silver"})
    cy = make_customer(tenant, "cy", attributes={"tier": "gold"})
    make_group(tenant, "vip", name={"en": "VIPs", "de": "VIPs DE"}, members=[ada, bob])
    make_group(tenant, "staff", name={"en": "Staff"}, members=[cy])
    make_group(tenant, "workers", user_type="EMPLOYEE", members=[ada, bob, cy])
    make_group(tenant, "acme-buyers", name={"en": "Acme buyers"}, legal_entity=acme, members=[ada])
    make_segment(tenant, "gold")
    make_segment(tenant, "other")


# --- groups.id in a rule -------------------------------------------------------------------------

GROUP_CASES = {
    "one group": ("groups.id:vip", {"ada", "bob"}),
    "a list": ("groups.id:(vip, staff)", {"ada", "bob", "cy"}),
    "with another condition": ("groups.id:vip attributes.tier:gold", {"ada"}),
    "two groups are both": ("groups.id:vip groups.id:staff", set()),
    "an employee group holds no customers": ("groups.id:workers", set()),
}


@pytest.mark.parametrize("case", GROUP_CASES.values(), ids=GROUP_CASES.keys())
def test_a_rule_on_groups_assigns_their_members(client, people, case):
    q, expected = case

    response = put_rule(client, "gold", q)

    assert response.status_code == 201, response.content
    assert response.json()["memberCount"] == len(expected)
    assert automatic("gold") == expected


def test_a_b2b_rule_on_a_group_assigns_each_legal_entity_of_its_members(client, people):
    assert put_rule(client, "gold", "groups.id:vip", assign="B2B").status_code == 201
    assert set(
        CustomerAssignment.objects.values_list("customer__external_id", "legal_entity__external_id")
    ) == {("ada", "acme-co")}


BAD = {
    "unknown group": ("groups.id:nope", "Invalid rule: q: groups.id names unknown group(s) nope."),
    "unknown in a list": (
        "groups.id:(vip, x1, x2)",
        "Invalid rule: q: groups.id names unknown group(s) x1, x2.",
    ),
    "a range": ("groups.id:>vip", "Invalid rule: q: Only equality and lists are allowed on"),
    "a regex": ("groups.id:~vip", "Invalid rule: q: Only equality and lists are allowed on"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_a_bad_groups_condition_is_a_400_naming_it(client, people, case):
    q, message = case

    response = put_rule(client, "gold", q)

    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith(message)
    assert not CustomerAssignment.objects.exists()


def test_a_group_of_another_tenant_is_unknown(client, people, other_tenant):
    make_group(other_tenant, "theirs")
    response = put_rule(client, "gold", "groups.id:theirs")
    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid rule: q: groups.id names unknown group(s) theirs."
    )


def test_preview_reads_groups(client, people):
    response = client.post(
        f"{BASE}/gold/rule/preview", {"q": "groups.id:staff", "assign": "B2C"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    assert [c["id"] for c in body["sample"]] == ["cy"]


@pytest.mark.parametrize("size", [1, 30])
def test_a_groups_rule_write_costs_the_same_queries_for_one_member_and_many(client, tenant, size):
    make_segment(tenant, "gold")
    make_group(tenant, "vip", members=[make_customer(tenant, f"c{n}") for n in range(size)])
    check = assert_same_queries("rules.put_groups", status=201)
    check(lambda: put_rule(client, "gold", "groups.id:vip"))


# --- membership changes re-evaluate the rules ----------------------------------------------------


def test_an_import_of_groups_re_evaluates_members_added_and_removed(client, people, tenant):
    put_rule(client, "gold", "groups.id:vip")
    Event.objects.all().delete()

    directory_import(
        tenant=tenant,
        records=[DirectoryRecord("groups", "line 1", {"id": "vip", "members": ["bob", "cy"]})],
    )

    assert automatic("gold") == {"bob", "cy"}
    assert sorted(Event.objects.values_list("type", "resource_id")) == [
        (CREATED, "gold/cy"),
        (DELETED, "gold/ada"),
    ]


def test_an_import_making_a_group_employee_re_evaluates_its_members(client, people, tenant):
    put_rule(client, "gold", "groups.id:vip")

    directory_import(
        tenant=tenant,
        records=[DirectoryRecord("groups", "line 1", {"id": "vip", "userType": "EMPLOYEE"})],
    )

    assert automatic("gold") == set()


def test_deleting_a_group_re_evaluates_its_members(client, people, tenant):
    put_rule(client, "gold", "groups.id:(vip, staff)")
    assert automatic("gold") == {"ada", "bob", "cy"}

    records_delete(tenant=tenant, rows=Group.objects.filter(external_id="staff"))

    # The rule still names the group that is gone: nobody is in it any more.
    assert automatic("gold") == {"ada", "bob"}


def test_deleting_a_legal_entity_re_evaluates_the_members_of_its_bound_groups(
    client, people, tenant
):
    put_rule(client, "gold", "groups.id:acme-buyers")
    assert automatic("gold") == {"ada"}

    records_delete(tenant=tenant, rows=LegalEntity.objects.filter(external_id="acme-co"))

    assert automatic("gold") == set()


@pytest.fixture
def su_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def superuser(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.com", None)


def group_form(group: Group, **fields) -> dict:
    members = list(GroupMember.objects.filter(group=group).order_by("pk"))
    data = {
        "user_type": group.user_type,
        "legal_entity": group.legal_entity_id or "",
        "name_en": group.name.get("en", ""),
        "name_de": group.name.get("de", ""),
        "name_fr": "",
        **inline_management("groupmember_set", "groupmember_set-2"),
        "groupmember_set-TOTAL_FORMS": str(len(members)),
        "groupmember_set-INITIAL_FORMS": str(len(members)),
    }
    for index, member in enumerate(members):
        data[f"groupmember_set-{index}-id"] = str(member.pk)
        data[f"groupmember_set-{index}-group"] = str(group.pk)
    data.update(fields)
    return data


def test_the_admins_member_edits_re_evaluate_the_rules(client, people, su_client):
    from segments.models import Customer

    put_rule(client, "gold", "groups.id:vip")
    vip = Group.objects.get(external_id="vip")
    removed = GroupMember.objects.filter(group=vip).order_by("pk").first()
    assert removed.customer.external_id == "ada"
    cy = Customer.objects.get(external_id="cy")

    response = su_client.post(
        f"/admin/segments/group/{vip.pk}/change/",
        group_form(
            vip,
            **{
                "groupmember_set-0-DELETE": "on",
                "groupmember_set-2-TOTAL_FORMS": "1",
                "groupmember_set-2-0-customer": cy.pk,
            },
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(
        GroupMember.objects.filter(group=vip).values_list("customer__external_id", flat=True)
    ) == {"bob", "cy"}
    assert automatic("gold") == {"bob", "cy"}


def test_the_admin_making_a_group_employee_re_evaluates_the_rules(client, people, su_client):
    put_rule(client, "gold", "groups.id:vip")
    vip = Group.objects.get(external_id="vip")

    response = su_client.post(
        f"/admin/segments/group/{vip.pk}/change/", group_form(vip, user_type="EMPLOYEE")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert automatic("gold") == set()


def test_the_admin_deleting_a_group_re_evaluates_the_rules(client, people, su_client):
    put_rule(client, "gold", "groups.id:vip")
    vip = Group.objects.get(external_id="vip")

    response = su_client.post(f"/admin/segments/group/{vip.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert automatic("gold") == set()


# --- explain -------------------------------------------------------------------------------------


def test_explain_a_member_through_a_group(client, people):
    assign_group(make_segment_ref("other"), Group.objects.get(external_id="vip"))

    response = client.get(f"{BASE}/other/explain", {"customerId": "bob"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "member": True,
        "effective": True,
        "reasons": [
            {
                "type": "GROUP",
                "legalEntityId": None,
                "group": {"id": "vip", "name": {"en": "VIPs", "de": "VIPs DE"}},
            }
        ],
        "segment": {"status": "ACTIVE", "validity": None},
    }


def test_explain_localizes_the_group_name(client, people):
    assign_group(make_segment_ref("other"), Group.objects.get(external_id="vip"))

    response = client.get(f"{BASE}/other/explain", {"customerId": "bob"}, HTTP_ACCEPT_LANGUAGE="de")

    assert response.json()["reasons"] == [
        {"type": "GROUP", "legalEntityId": None, "group": {"id": "vip", "name": "VIPs DE"}}
    ]


def test_explain_respects_a_groups_legal_entity_binding(client, people):
    other = make_segment_ref("other")
    assign_group(other, Group.objects.get(external_id="acme-buyers"))

    alone = client.get(f"{BASE}/other/explain", {"customerId": "ada"}).json()
    acting = client.get(
        f"{BASE}/other/explain", {"customerId": "ada", "legalEntityId": "acme-co"}
    ).json()

    assert (alone["member"], alone["effective"], alone["reasons"]) == (False, False, [])
    assert (acting["member"], acting["effective"]) == (True, True)
    assert acting["reasons"] == [
        {
            "type": "GROUP",
            "legalEntityId": "acme-co",
            "group": {"id": "acme-buyers", "name": {"en": "Acme buyers"}},
        }
    ]


def test_explain_a_groups_condition_and_a_group_next_to_a_manual_row(client, people, tenant):
    from segments.models import Customer

    put_rule(client, "gold", "groups.id:(vip, staff) attributes.tier:gold")
    gold = make_segment_ref("gold")
    assign_group(gold, Group.objects.get(external_id="staff"))
    assign_customer(gold, Customer.objects.get(external_id="bob"))
    gold.status = "INACTIVE"
    gold.save()

    cy = client.get(f"{BASE}/gold/explain", {"customerId": "cy"}).json()
    bob = client.get(f"{BASE}/gold/explain", {"customerId": "bob"}).json()

    assert (cy["member"], cy["effective"]) == (True, False)
    assert [r["type"] for r in cy["reasons"]] == ["AUTOMATIC", "GROUP"]
    assert cy["reasons"][0]["conditions"][0] == {
        "condition": "groups.id:(vip, staff)",
        "field": "groups.id",
        "value": ["staff"],
        "verdict": True,
    }
    assert cy["reasons"][1]["group"] == {"id": "staff", "name": {"en": "Staff"}}
    assert [r["type"] for r in bob["reasons"]] == ["MANUAL", "RULE"]
    assert bob["reasons"][1]["conditions"][0]["value"] == ["vip"]
    assert [c["verdict"] for c in bob["reasons"][1]["conditions"]] == [True, False]


def test_an_employee_groups_assignment_is_no_reason(client, people):
    from segments.models import GroupAssignment, Segment

    GroupAssignment.objects.create(
        tenant_id="acme",
        segment=Segment.objects.get(external_id="other"),
        group=Group.objects.get(external_id="workers"),
    )
    body = client.get(f"{BASE}/other/explain", {"customerId": "bob"}).json()
    assert (body["member"], body["reasons"]) == (False, [])


def make_segment_ref(external_id):
    from segments.models import Segment

    return Segment.objects.get(external_id=external_id)


# --- the admin customer page ---------------------------------------------------------------------


def test_the_customer_page_lists_segments_through_groups(client, people, su_client, tenant):
    from segments.models import Customer

    assign_group(make_segment_ref("other"), Group.objects.get(external_id="vip"))
    assign_group(make_segment_ref("gold"), Group.objects.get(external_id="acme-buyers"))
    assign_customer(make_segment_ref("gold"), Customer.objects.get(external_id="ada"))
    ada = Customer.objects.get(external_id="ada")

    html = su_client.get(f"/admin/segments/customer/{ada.pk}/change/").content.decode()

    assert '(gold)</a> <span class="assignment-kind kind-manual">manual</span>' in html
    assert (
        '(gold)</a> for Acme Corp (acme-co) <span class="assignment-kind kind-group">'
        "group (Acme buyers)</span>" in html
    )
    assert '(other)</a> <span class="assignment-kind kind-group">group (VIPs)</span>' in html


def test_the_customer_page_costs_the_same_for_one_group_segment_and_many(people, su_client, tenant):
    from segments.models import Customer

    ada = Customer.objects.get(external_id="ada")
    vip = Group.objects.get(external_id="vip")
    assign_customer(make_segment_ref("gold"), ada)
    assign_group(make_segment_ref("other"), vip)
    page = f"/admin/segments/customer/{ada.pk}/change/"
    su_client.get(page)
    check = assert_same_queries("admin.workspace.customer_page_groups", status=200)
    check(lambda: su_client.get(page))
    for _ in range(12):
        assign_group(make_segment(tenant), vip)
    check(lambda: su_client.get(page))
