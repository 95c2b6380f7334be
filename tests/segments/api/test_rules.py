"""Rules (SPEC §12) through HTTP: writing them, what they assign, exclusions, preview, explain."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from segments.models import CustomerAssignment, Event, RuleExclusion, SegmentRule
from segments.services.directory.records import DirectoryRecord
from segments.services.directory.writer import directory_import
from segments.services.records import records_delete
from tests.factories import assign_customer, make_customer, make_legal_entity, make_segment
from tests.querycounts import assert_same_queries

pytestmark = pytest.mark.django_db

BASE = "/customer-segment/acme/segments"
CREATED = "customer-segment.customer-assignment-created"
DELETED = "customer-segment.customer-assignment-deleted"


@pytest.fixture
def client(admin_client_api):
    return admin_client_api


def put_rule(client, segment_id, q, assign="B2C", enabled=True):
    return client.put(
        f"{BASE}/{segment_id}/rule",
        {"q": q, "assign": assign, "enabled": enabled},
        format="json",
    )


def members(segment_id) -> set[tuple[str, str | None, str]]:
    return {
        (
            row.customer.external_id,
            row.legal_entity.external_id if row.legal_entity else None,
            row.assignment_type,
        )
        for row in CustomerAssignment.objects.filter(
            segment__external_id=segment_id
        ).select_related("customer", "legal_entity")
    }


def automatic(segment_id) -> set[str]:
    return {c for c, _, kind in members(segment_id) if kind == "AUTOMATIC"}


@pytest.fixture
def people(tenant):
    acme = make_legal_entity(tenant, "acme-co", name="Acme Corp")
    initech = make_legal_entity(tenant, "initech", name="Initech")
    make_customer(
        tenant,
        "ada",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.test",
        attributes={"tier": "gold", "address": {"city": {"name": "Berlin"}}, "orders": 12},
        legal_entities=[acme, initech],
    )
    make_customer(
        tenant,
        "bob",
        first_name="Bob",
        last_name="Builder",
        email="bob@initech.test",
        attributes={"tier": "silver", "address": {"city": {"name": "Paris"}}, "orders": 3},
        legal_entities=[initech],
    )
    make_customer(
        tenant,
        "cy",
        first_name="Cy",
        last_name="Young",
        email="cy@home.test",
        attributes={"tier": "gold"},
    )
    make_segment(tenant, "gold")
    make_segment(tenant, "other")
    make_segment(tenant, "third")


# --- each field kind -----------------------------------------------------------------------------

FIELD_CASES = {
    "id": ("id:ada", {"ada"}),
    "email regex": ("email:~@initech", {"bob"}),
    "firstName": ("firstName:Cy", {"cy"}),
    "lastName list": ("lastName:(Lovelace, Young)", {"ada", "cy"}),
    "attributes shallow": ("attributes.tier:gold", {"ada", "cy"}),
    "attributes deep": ("attributes.address.city.name:Berlin", {"ada"}),
    "attributes number": ("attributes.orders:>5", {"ada"}),
    "attributes missing": ("attributes.orders:missing", {"cy"}),
    "legalEntities.id": ("legalEntities.id:initech", {"ada", "bob"}),
    "legalEntities.name": ("legalEntities.name:~^Acme", {"ada"}),
    "no legal entity": ("legalEntities.id:missing", {"cy"}),
    "two conditions": ("attributes.tier:gold legalEntities.id:initech", {"ada"}),
}


@pytest.mark.parametrize("case", FIELD_CASES.values(), ids=FIELD_CASES.keys())
def test_a_rule_assigns_the_customers_its_q_matches(client, people, case):
    q, expected = case

    response = put_rule(client, "gold", q)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["q"] == q
    assert body["assign"] == "B2C"
    assert body["enabled"] is True
    assert body["memberCount"] == len(expected)
    assert body["evaluation"] == {"added": len(expected), "removed": 0}
    assert body["lastEvaluatedAt"].endswith("Z")
    assert members("gold") == {(c, None, "AUTOMATIC") for c in expected}


def test_a_b2b_rule_assigns_each_matching_customer_and_legal_entity(client, people):
    response = put_rule(client, "gold", "attributes.tier:gold", assign="B2B")

    assert response.status_code == 201, response.content
    assert members("gold") == {
        ("ada", "acme-co", "AUTOMATIC"),
        ("ada", "initech", "AUTOMATIC"),
    }


def test_a_b2b_rule_reads_legal_entity_conditions_on_the_pair(client, people):
    put_rule(client, "gold", "legalEntities.name:Initech", assign="B2B")

    assert members("gold") == {("ada", "initech", "AUTOMATIC"), ("bob", "initech", "AUTOMATIC")}


def test_rewriting_a_rule_removes_who_no_longer_matches_and_records_each_change(client, people):
    put_rule(client, "gold", "attributes.tier:gold")
    Event.objects.all().delete()

    response = put_rule(client, "gold", "legalEntities.id:initech")

    assert response.status_code == 200
    assert response.json()["evaluation"] == {"added": 1, "removed": 1}
    assert automatic("gold") == {"ada", "bob"}
    events = list(Event.objects.order_by("id").values_list("type", "resource_id", "actor"))
    assert events == [(DELETED, "gold/cy", "rule:gold"), (CREATED, "gold/bob", "rule:gold")]
    created = Event.objects.get(type=CREATED).payload
    assert created["segmentId"] == "gold"
    assert created["customer"] == {"id": "bob"}
    assert created["assignmentType"] == "AUTOMATIC"
    assert created["metadata"]["version"] == 1
    assert created["metadata"]["createdAt"].endswith("Z")


def test_manual_rows_are_never_touched(client, people, tenant):
    from segments.models import Customer, Segment

    gold = Segment.objects.get(external_id="gold")
    bob = Customer.objects.get(external_id="bob")
    ada = Customer.objects.get(external_id="ada")
    assign_customer(gold, bob)  # MANUAL, does not match
    assign_customer(gold, ada)  # MANUAL, matches

    put_rule(client, "gold", "attributes.tier:gold")

    assert members("gold") == {
        ("bob", None, "MANUAL"),
        ("ada", None, "MANUAL"),
        ("cy", None, "AUTOMATIC"),
    }
    put_rule(client, "gold", "id:nobody")
    assert members("gold") == {("bob", None, "MANUAL"), ("ada", None, "MANUAL")}


# --- bad rules -----------------------------------------------------------------------------------

BAD = {
    "unknown field": ("color:red", "Invalid rule: q: Unknown field 'color'"),
    "syntax": ("id:(a, b", "Invalid rule: q: "),
    "regex on segments": ("segments.id:~gold", "Invalid rule: q: Only equality and lists"),
    "unknown segment": ("segments.id:nope", "Invalid rule: q: segments.id names unknown"),
    "self": ("segments.id:gold", "Invalid rule: q: segments.id makes a cycle: gold → gold."),
    "blank": ("  ", "q: This field may not be blank."),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_a_bad_rule_is_a_400_naming_the_problem(client, people, case):
    q, message = case

    response = put_rule(client, "gold", q)

    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith(message)
    assert not SegmentRule.objects.exists()
    assert not CustomerAssignment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assign": "B2C"}, "q"),
        ({"q": "id:a", "assign": "B2X"}, "assign"),
        ({"q": "id:a", "enabled": "yes"}, "enabled"),
        ({"q": "id:a", "extra": 1}, "extra"),
        ({"q": 5}, "q"),
    ],
)
def test_a_malformed_rule_body_is_a_400_naming_the_field(client, people, body, field):
    response = client.put(f"{BASE}/gold/rule", body, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}:")


def test_a_rule_on_an_unknown_segment_is_a_404(client, people):
    assert put_rule(client, "nope", "id:ada").status_code == 404
    assert client.get(f"{BASE}/nope/rule").status_code == 404


def test_a_cycle_through_other_rules_is_a_400_naming_it(client, people):
    assert put_rule(client, "other", "segments.id:gold").status_code == 201
    assert put_rule(client, "third", "segments.id:other").status_code == 201

    response = put_rule(client, "gold", "segments.id:third")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Invalid rule: q: segments.id makes a cycle: gold → third → other → gold."
    )


# --- rules on other segments ---------------------------------------------------------------------


def test_a_rule_on_another_segment_follows_it_in_dependency_order(client, people):
    assert put_rule(client, "other", "segments.id:gold attributes.orders:exists").status_code == 201
    assert automatic("other") == set()

    put_rule(client, "gold", "attributes.tier:gold")

    assert automatic("gold") == {"ada", "cy"}
    assert automatic("other") == {"ada"}  # re-evaluated after gold's rule changed

    response = client.put(f"{BASE}/gold/customers/bob", {}, format="json")  # a manual member
    assert response.status_code in (201, 204), response.content
    assert automatic("other") == {"ada", "bob"}


def test_deleting_a_rule_read_by_another_is_a_400(client, people):
    put_rule(client, "gold", "attributes.tier:gold")
    put_rule(client, "other", "segments.id:gold")

    response = client.delete(f"{BASE}/gold/rule")

    assert response.status_code == 400
    assert response.json()["message"] == "The rule of segment gold is read by the rule(s) of other."


# --- get, delete, disable ------------------------------------------------------------------------


def test_get_shows_the_rule_and_delete_removes_it_with_its_assignments(client, people):
    put_rule(client, "gold", "attributes.tier:gold")

    got = client.get(f"{BASE}/gold/rule")
    assert got.status_code == 200
    assert got.json()["memberCount"] == 2
    assert got.json()["excludedCount"] == 0
    assert "evaluation" not in got.json()

    Event.objects.all().delete()
    assert client.delete(f"{BASE}/gold/rule").status_code == 204
    assert client.get(f"{BASE}/gold/rule").status_code == 404
    assert members("gold") == set()
    assert Event.objects.filter(type=DELETED).count() == 2


def test_a_disabled_rule_keeps_its_assignments_as_they_are(client, people):
    put_rule(client, "gold", "attributes.tier:gold")

    put_rule(client, "gold", "id:nobody", enabled=False)

    assert automatic("gold") == {"ada", "cy"}


def test_rule_scopes(tenant, make_client, people):
    from tests.conftest import MANAGE, READ

    reader = make_client(tenant, READ)
    manager = make_client(tenant, MANAGE)
    assert put_rule(reader, "gold", "id:ada").status_code == 403
    assert put_rule(manager, "gold", "id:ada").status_code == 201
    assert reader.get(f"{BASE}/gold/rule").status_code == 200
    assert manager.get(f"{BASE}/gold/rule").status_code == 403
    assert reader.delete(f"{BASE}/gold/rule").status_code == 403


def test_rules_are_kept_to_their_tenant(client, people, other_tenant, make_client):
    from tests.conftest import MANAGE, READ

    make_segment(other_tenant, "gold")
    make_customer(other_tenant, "ada", attributes={"tier": "gold"})
    put_rule(client, "gold", "attributes.tier:gold")

    other = make_client(other_tenant, MANAGE, READ)
    assert other.get("/customer-segment/globex/segments/gold/rule").status_code == 404
    assert CustomerAssignment.objects.filter(tenant=other_tenant).count() == 0


# --- exclusions ----------------------------------------------------------------------------------


def test_deleting_an_automatic_assignment_excludes_it_until_a_put_makes_it_manual(client, people):
    put_rule(client, "gold", "attributes.tier:gold")

    assert client.delete(f"{BASE}/gold/customers/cy").status_code == 204
    put_rule(client, "gold", "attributes.tier:gold")  # evaluated in full again

    assert automatic("gold") == {"ada"}
    assert client.get(f"{BASE}/gold/rule").json()["excludedCount"] == 1

    assert client.put(f"{BASE}/gold/customers/cy", {}, format="json").status_code == 201
    assert members("gold") == {("ada", None, "AUTOMATIC"), ("cy", None, "MANUAL")}
    assert not RuleExclusion.objects.exists()


def test_a_bulk_delete_of_automatic_assignments_excludes_them(client, people):
    put_rule(client, "gold", "attributes.tier:gold", assign="B2B")

    response = client.delete(
        f"{BASE}/gold/customers/bulk",
        [{"customerId": "ada", "legalEntityId": "initech"}],
        format="json",
    )

    assert response.status_code == 207, response.content
    call_command("evaluate_rules", tenant="acme", no_progress=True)
    assert members("gold") == {("ada", "acme-co", "AUTOMATIC")}
    assert RuleExclusion.objects.count() == 1


# --- directory changes ---------------------------------------------------------------------------


def test_an_import_re_evaluates_the_changed_customers(client, people, tenant):
    put_rule(client, "gold", "attributes.tier:gold")
    Event.objects.all().delete()

    records = [
        DirectoryRecord("customers", "line 1", {"id": "bob", "attributes": {"tier": "gold"}}),
        DirectoryRecord("customers", "line 2", {"id": "cy", "attributes": {"tier": "bronze"}}),
        DirectoryRecord("customers", "line 3", {"id": "dee", "attributes": {"tier": "gold"}}),
    ]
    directory_import(tenant=tenant, records=records)

    assert automatic("gold") == {"ada", "bob", "dee"}
    assert sorted(Event.objects.values_list("type", "resource_id")) == [
        (CREATED, "gold/bob"),
        (CREATED, "gold/dee"),
        (DELETED, "gold/cy"),
    ]


def test_a_legal_entity_renamed_or_deleted_re_evaluates_its_customers(client, people, tenant):
    from segments.models import LegalEntity

    put_rule(client, "gold", "legalEntities.name:Initech")
    assert automatic("gold") == {"ada", "bob"}

    directory_import(
        tenant=tenant,
        records=[DirectoryRecord("legalEntities", "line 1", {"id": "initech", "name": "X"})],
    )
    assert automatic("gold") == set()

    put_rule(client, "gold", "legalEntities.id:missing")
    assert automatic("gold") == {"cy"}
    records_delete(tenant=tenant, rows=LegalEntity.objects.filter(external_id="initech"))
    assert automatic("gold") == {"cy", "bob"}


# --- preview -------------------------------------------------------------------------------------


def test_preview_equals_what_a_save_then_does(client, people):
    from segments.models import Customer, Segment

    put_rule(client, "gold", "attributes.tier:gold")
    assign_customer(
        Segment.objects.get(external_id="gold"), Customer.objects.get(external_id="bob")
    )
    before = Event.objects.count()

    preview = client.post(
        f"{BASE}/gold/rule/preview", {"q": "legalEntities.id:initech"}, format="json"
    )

    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert Event.objects.count() == before  # nothing written
    assert body["count"] == 2
    assert [c["id"] for c in body["sample"]] == ["ada", "bob"]
    assert body["added"] == {"count": 0, "sample": []}  # bob is in already (MANUAL)
    assert body["removed"]["count"] == 1
    assert body["removed"]["sample"] == [
        {"id": "cy", "firstName": "Cy", "lastName": "Young", "email": "cy@home.test"}
    ]

    saved = put_rule(client, "gold", "legalEntities.id:initech").json()
    assert saved["evaluation"] == {
        "added": body["added"]["count"],
        "removed": body["removed"]["count"],
    }


def test_preview_of_a_bad_rule_is_a_400(client, people):
    response = client.post(f"{BASE}/gold/rule/preview", {"q": "nope:1"}, format="json")
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Invalid rule: q: Unknown field 'nope' at position 0"
    )


@pytest.mark.parametrize("size", [1, 30])
def test_preview_costs_the_same_queries_for_one_customer_and_many(client, tenant, size):
    make_segment(tenant, "gold")
    for n in range(size):
        make_customer(tenant, f"c{n}", attributes={"tier": "gold"})
    check = assert_same_queries("rules.preview", status=200)
    check(
        lambda: client.post(
            f"{BASE}/gold/rule/preview", {"q": "attributes.tier:gold"}, format="json"
        )
    )


@pytest.mark.parametrize("size", [1, 30])
def test_a_rule_write_costs_the_same_queries_for_one_customer_and_many(client, tenant, size):
    make_segment(tenant, "gold")
    for n in range(size):
        make_customer(tenant, f"c{n}", attributes={"tier": "gold"})
    check = assert_same_queries("rules.put", status=201)
    check(lambda: put_rule(client, "gold", "attributes.tier:gold"))


# --- explain -------------------------------------------------------------------------------------


def test_explain_an_automatic_member_with_each_condition(client, people):
    put_rule(client, "gold", "attributes.tier:gold legalEntities.id:initech")

    response = client.get(f"{BASE}/gold/explain", {"customerId": "ada"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "member": True,
        "effective": True,
        "reasons": [
            {
                "type": "AUTOMATIC",
                "legalEntityId": None,
                "q": "attributes.tier:gold legalEntities.id:initech",
                "enabled": True,
                "matched": True,
                "conditions": [
                    {
                        "condition": "attributes.tier:gold",
                        "field": "attributes.tier",
                        "value": "gold",
                        "verdict": True,
                    },
                    {
                        "condition": "legalEntities.id:initech",
                        "field": "legalEntities.id",
                        "value": ["acme-co", "initech"],
                        "verdict": True,
                    },
                ],
            }
        ],
        "segment": {"status": "ACTIVE", "validity": None},
    }


def test_explain_a_non_member_shows_the_failing_condition(client, people):
    put_rule(client, "gold", "attributes.tier:gold legalEntities.id:initech")

    body = client.get(f"{BASE}/gold/explain", {"customerId": "cy"}).json()

    assert body["member"] is False
    assert body["effective"] is False
    [reason] = body["reasons"]
    assert reason["type"] == "RULE"
    assert reason["matched"] is False
    assert [c["verdict"] for c in reason["conditions"]] == [True, False]
    assert reason["conditions"][1]["value"] == []


def test_explain_manual_excluded_and_an_inactive_segment(client, people, tenant):
    from segments.models import Customer, Segment

    put_rule(client, "gold", "attributes.tier:gold")
    client.delete(f"{BASE}/gold/customers/cy")
    gold = Segment.objects.get(external_id="gold")
    assign_customer(gold, Customer.objects.get(external_id="bob"))
    Segment.objects.filter(pk=gold.pk).update(status="INACTIVE")

    bob = client.get(f"{BASE}/gold/explain", {"customerId": "bob"}).json()
    cy = client.get(f"{BASE}/gold/explain", {"customerId": "cy"}).json()

    assert bob["member"] is True
    assert bob["effective"] is False
    assert bob["segment"] == {"status": "INACTIVE", "validity": None}
    assert [r["type"] for r in bob["reasons"]] == ["MANUAL", "RULE"]
    assert cy["member"] is False
    assert [r["type"] for r in cy["reasons"]] == ["EXCLUDED", "RULE"]
    assert cy["reasons"][1]["matched"] is True


def test_explain_a_b2b_pair(client, people):
    put_rule(client, "gold", "legalEntities.name:Initech", assign="B2B")

    pair = client.get(
        f"{BASE}/gold/explain", {"customerId": "ada", "legalEntityId": "initech"}
    ).json()
    other = client.get(
        f"{BASE}/gold/explain", {"customerId": "ada", "legalEntityId": "acme-co"}
    ).json()

    assert pair["member"] is True
    assert pair["reasons"][0]["legalEntityId"] == "initech"
    assert pair["reasons"][0]["conditions"][0]["value"] == ["Initech"]
    assert other["member"] is False
    assert other["reasons"][0]["conditions"][0]["verdict"] is False


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({}, 400, "customerId: This query parameter is required."),
        ({"customerId": "nobody"}, 404, "The customer with id nobody has not been found."),
        (
            {"customerId": "ada", "legalEntityId": "x"},
            404,
            "The legal entity with id x has not been found.",
        ),
    ],
)
def test_explain_refuses_unknown_ids(client, people, query, status, message):
    response = client.get(f"{BASE}/gold/explain", query)
    assert response.status_code == status
    assert response.json()["message"] == message
