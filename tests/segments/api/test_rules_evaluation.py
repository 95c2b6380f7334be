"""Rules (SPEC §12) evaluated for changed customers: every rule of a dependency level at
once, so a directory change costs the same queries for one rule as for many; each rule's
compiled SQL kept per rule text."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.models import CustomerAssignment, Event, RuleExclusion, SegmentRule
from segments.services import rules as rules_service
from segments.services.directory.records import DirectoryRecord
from segments.services.directory.writer import directory_import
from segments.services.rules import PREPARED_PREFIX, RuleInput, rule_upsert
from tests.factories import make_customer, make_legal_entity, make_segment
from tests.querycounts import assert_same_queries, baseline

pytestmark = pytest.mark.django_db

BASE = "/customer-segment/acme/segments"
CREATED = "customer-segment.customer-assignment-created"
DELETED = "customer-segment.customer-assignment-deleted"


@pytest.fixture
def client(admin_client_api):
    return admin_client_api


def put_rule(client, segment_id, q, assign="B2C"):
    response = client.put(
        f"{BASE}/{segment_id}/rule", {"q": q, "assign": assign, "enabled": True}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    return response


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


def change(tenant, customer_id, **values):
    directory_import(
        tenant=tenant,
        records=[DirectoryRecord("customers", "line 1", {"id": customer_id, **values})],
    )


@pytest.mark.parametrize("rules", [1, 20])
def test_a_directory_change_costs_the_same_queries_for_one_rule_and_many(client, tenant, rules):
    make_customer(tenant, "ada", attributes={"tier": "silver"})
    make_customer(tenant, "bob", attributes={"tier": "gold"})
    for n in range(rules):
        make_segment(tenant, f"r{n}")
        make_segment(tenant, f"d{n}")
        put_rule(client, f"r{n}", "attributes.tier:gold")
        put_rule(client, f"d{n}", f"segments.id:r{n}")  # the next level
    Event.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        change(tenant, "ada", attributes={"tier": "gold"})

    expected = baseline("rules.directory_change", connection.vendor)
    statements = "\n".join(q["sql"][:300] for q in queries.captured_queries)
    assert len(queries) == expected, f"{len(queries)} queries, baseline {expected}\n{statements}"
    for n in range(rules):
        assert members(f"r{n}") == {("ada", None, "AUTOMATIC"), ("bob", None, "AUTOMATIC")}
        assert members(f"d{n}") == {("ada", None, "AUTOMATIC"), ("bob", None, "AUTOMATIC")}
    assert sorted(Event.objects.values_list("type", "resource_id", "actor")) == sorted(
        [(CREATED, f"r{n}/ada", f"rule:r{n}") for n in range(rules)]
        + [(CREATED, f"d{n}/ada", f"rule:d{n}") for n in range(rules)]
    )
    # The first level's events come before the second's.
    actors = list(Event.objects.order_by("pk").values_list("actor", flat=True))
    assert all(a.startswith("rule:r") for a in actors[:rules])


@pytest.mark.parametrize("rules", [1, 20])
def test_a_manual_assignment_costs_the_same_queries_for_one_reading_rule_and_many(
    client, tenant, rules
):
    make_customer(tenant, "ada")
    make_segment(tenant, "base")
    for n in range(rules):
        make_segment(tenant, f"r{n}")
        put_rule(client, f"r{n}", "segments.id:base")
    check = assert_same_queries("rules.readers_follow", status=201)

    check(lambda: client.put(f"{BASE}/base/customers/ada", {}, format="json"))

    for n in range(rules):
        assert members(f"r{n}") == {("ada", None, "AUTOMATIC")}
    events = Event.objects.filter(resource_id__startswith="r").values_list("actor", flat=True)
    assert sorted(events) == sorted(f"rule:r{n}" for n in range(rules))


def test_a_changed_rule_is_not_evaluated_with_the_sql_of_its_former_text(client, tenant):
    make_customer(tenant, "ada", attributes={"tier": "gold"})
    make_segment(tenant, "gold")
    put_rule(client, "gold", "attributes.tier:gold")
    change(tenant, "ada", attributes={"tier": "gold", "n": 1})  # the SQL is compiled, kept
    assert members("gold") == {("ada", None, "AUTOMATIC")}

    put_rule(client, "gold", "attributes.tier:silver")
    assert members("gold") == set()
    change(tenant, "ada", attributes={"tier": "gold", "n": 2})
    assert members("gold") == set()  # the old text would have put ada back
    change(tenant, "ada", attributes={"tier": "silver"})
    assert members("gold") == {("ada", None, "AUTOMATIC")}

    put_rule(client, "gold", "attributes.tier:silver", assign="B2B")  # same q, other assign
    make_legal_entity(tenant, "acme-co")
    change(tenant, "ada", attributes={"tier": "silver"}, legalEntities=["acme-co"])
    assert members("gold") == {("ada", "acme-co", "AUTOMATIC")}


def test_a_level_keeps_manual_rows_exclusions_and_b2b_pairs(client, tenant):
    acme = make_legal_entity(tenant, "acme-co", name="Acme")
    initech = make_legal_entity(tenant, "initech", name="Initech")
    make_customer(tenant, "ada", attributes={"tier": "silver"}, legal_entities=[acme, initech])
    for segment_id in ("manual", "excluded", "pairs", "b2c"):
        make_segment(tenant, segment_id)
    assert client.put(f"{BASE}/manual/customers/ada", {}, format="json").status_code == 201
    put_rule(client, "manual", "attributes.tier:gold")
    put_rule(client, "excluded", "attributes.tier:(gold, silver)")
    assert client.delete(f"{BASE}/excluded/customers/ada").status_code == 204
    put_rule(client, "pairs", "attributes.tier:gold legalEntities.name:~^Acme", assign="B2B")
    put_rule(client, "b2c", "attributes.tier:gold")
    Event.objects.all().delete()

    change(tenant, "ada", attributes={"tier": "gold"}, legalEntities=["acme-co", "initech"])

    assert members("manual") == {("ada", None, "MANUAL")}
    assert members("excluded") == set()
    assert RuleExclusion.objects.count() == 1
    assert members("pairs") == {("ada", "acme-co", "AUTOMATIC")}
    assert members("b2c") == {("ada", None, "AUTOMATIC")}
    assert sorted(Event.objects.values_list("type", "resource_id", "actor")) == [
        (CREATED, "b2c/ada", "rule:b2c"),
        (CREATED, "pairs/ada/acme-co", "rule:pairs"),
    ]

    change(tenant, "ada", attributes={"tier": "bronze"}, legalEntities=["acme-co", "initech"])

    assert members("manual") == {("ada", None, "MANUAL")}
    assert members("pairs") == set()
    assert members("b2c") == set()
    deleted = Event.objects.filter(type=DELETED).order_by("resource_id")
    assert [(e.resource_id, e.actor) for e in deleted] == [
        ("b2c/ada", "rule:b2c"),
        ("pairs/ada/acme-co", "rule:pairs"),
    ]
    payload = deleted[1].payload
    assert payload["segmentId"] == "pairs"
    assert payload["customer"] == {"id": "ada"}
    assert payload["legalEntity"] == {"id": "acme-co"}
    assert payload["assignmentType"] == "AUTOMATIC"


# --- segments.id reads membership as everything else does: direct, rule-made, through groups ---


def test_segments_id_reads_membership_through_a_group(client, tenant):
    from tests.factories import make_group

    ada = make_customer(tenant, "ada")
    make_customer(tenant, "bob")
    make_group(tenant, "vip", members=[ada])
    make_segment(tenant, "base")
    make_segment(tenant, "fans")
    assert client.put(f"{BASE}/base/groups/vip", {}, format="json").status_code == 201

    put_rule(client, "fans", "segments.id:base")
    assert members("fans") == {("ada", None, "AUTOMATIC")}

    # A new member of the group (an import) is a member of base, so of fans.
    directory_import(
        tenant=tenant,
        records=[DirectoryRecord("groups", "line 1", {"id": "vip", "members": ["ada", "bob"]})],
    )
    assert members("fans") == {("ada", None, "AUTOMATIC"), ("bob", None, "AUTOMATIC")}

    body = client.get(f"{BASE}/fans/explain", {"customerId": "bob"}).json()
    assert body["member"] is True
    [reason] = body["reasons"]
    assert reason["type"] == "AUTOMATIC"
    assert reason["conditions"] == [
        {
            "condition": "segments.id:base",
            "field": "segments.id",
            "value": ["base"],
            "verdict": True,
        }
    ]

    # The group leaves base (the API): fans follows, each change its event by the rule.
    Event.objects.all().delete()
    assert client.delete(f"{BASE}/base/groups/vip").status_code == 204
    assert members("fans") == set()
    assert sorted(Event.objects.filter(type=DELETED).values_list("resource_id", "actor")) == [
        ("fans/ada", "rule:fans"),
        ("fans/bob", "rule:fans"),
    ]

    # And comes back.
    assert client.put(f"{BASE}/base/groups/vip", {}, format="json").status_code == 201
    assert members("fans") == {("ada", None, "AUTOMATIC"), ("bob", None, "AUTOMATIC")}


def test_segments_id_reads_rule_made_membership_and_a_non_customer_group_does_not_count(
    client, tenant
):
    from segments.choices import GroupUserType
    from tests.factories import assign_group, make_group

    make_customer(tenant, "ada", attributes={"tier": "gold"})
    bob = make_customer(tenant, "bob")
    staff = make_group(tenant, "staff", members=[bob], user_type=GroupUserType.EMPLOYEE)
    gold = make_segment(tenant, "gold")
    make_segment(tenant, "fans")
    assign_group(gold, staff)  # employees: no customer is a member of gold through it
    put_rule(client, "gold", "attributes.tier:gold")  # ada, made by the rule
    put_rule(client, "fans", "segments.id:gold")

    assert members("fans") == {("ada", None, "AUTOMATIC")}


def test_a_rule_of_another_sql_shape_is_evaluated_on_its_own(client, tenant, monkeypatch):
    """PostgreSQL reads the rules of a level in one scan when their SQL has the usual shape;
    any other rule is a branch of its own, with the same result."""
    import re

    from segments.services import rules

    make_customer(tenant, "ada", attributes={"tier": "silver"})
    for segment_id in ("gold", "pairs"):
        make_segment(tenant, segment_id)
    make_legal_entity(tenant, "acme-co")
    put_rule(client, "gold", "attributes.tier:gold")
    put_rule(client, "pairs", "attributes.tier:gold", assign="B2B")
    rules._level_matches_sql.cache_clear()
    monkeypatch.setattr(rules, "MATCHES_SHAPE", re.compile(r"^never$"))
    try:
        change(tenant, "ada", attributes={"tier": "gold"}, legalEntities=["acme-co"])
    finally:
        rules._level_matches_sql.cache_clear()

    assert members("gold") == {("ada", None, "AUTOMATIC")}
    assert members("pairs") == {("ada", "acme-co", "AUTOMATIC")}


def test_the_kept_rules_follow_every_rule_write_with_nothing_cleared(client, tenant):
    # The rules a directory change reads are kept in process (`tenant_rules_kept`): a
    # write elsewhere (another worker, a bulk update) clears nothing here, and is seen.
    make_customer(tenant, "ada", attributes={"tier": "silver"})
    make_segment(tenant, "gold")
    make_segment(tenant, "other")
    put_rule(client, "gold", "attributes.tier:gold")
    change(tenant, "ada", attributes={"tier": "silver", "n": 1})  # the rules are kept
    assert members("gold") == set()

    rule_upsert(
        tenant=tenant,
        segment_id="other",
        data=RuleInput(q="attributes.tier:gold", assign="B2C", enabled=True),
    )
    change(tenant, "ada", attributes={"tier": "gold"})
    assert members("other") == {("ada", None, "AUTOMATIC")}  # the new rule was evaluated

    SegmentRule.objects.filter(segment__external_id="other").update(enabled=False)
    change(tenant, "ada", attributes={"tier": "silver"})
    assert members("gold") == set()
    assert members("other") == {("ada", None, "AUTOMATIC")}  # disabled: frozen

    SegmentRule.objects.filter(segment__external_id="gold").update(q="attributes.tier:silver")
    change(tenant, "ada", attributes={"tier": "silver", "n": 2})
    assert members("gold") == {("ada", None, "AUTOMATIC")}  # its new text


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE %s ORDER BY prepare_time",
            [PREPARED_PREFIX + "%"],
        )
        return [name for (name,) in cursor.fetchall()]


def plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        return cursor.fetchone()[0]


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


@postgresql_only
def test_a_level_statement_is_prepared_once_per_connection_and_only_for_its_rules(client, tenant):
    make_customer(tenant, "ada", attributes={"tier": "silver"})
    make_segment(tenant, "gold")
    put_rule(client, "gold", "attributes.tier:gold")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # the earlier tests' statements
    change(tenant, "ada", attributes={"tier": "gold"})
    assert members("gold") == {("ada", None, "AUTOMATIC")}
    first = prepared()
    assert len(first) == 1

    with CaptureQueriesContext(connection) as queries:
        change(tenant, "ada", attributes={"tier": "silver"})
    assert members("gold") == set()
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in statements if sql.startswith("PREPARE")]
    assert [sql for sql in statements if sql.startswith(f"EXECUTE {first[0]} ")]
    assert plan_cache_mode() == "auto"  # put back for the rest of the transaction

    # A changed rule is another statement: the former is never run for it.
    put_rule(client, "gold", "attributes.tier:silver")
    change(tenant, "ada", attributes={"tier": "silver", "n": 1})
    assert members("gold") == {("ada", None, "AUTOMATIC")}
    second = prepared()
    assert second[0] == first[0] and len(second) == 2

    # A connection that does not hold them (another server connection behind a pooling
    # proxy, a DISCARD ALL) prepares them again.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    change(tenant, "ada", attributes={"tier": "gold"})
    assert members("gold") == set()
    assert prepared() == [second[1]]


@postgresql_only
def test_a_connection_keeps_a_bounded_number_of_level_statements(client, tenant, monkeypatch):
    monkeypatch.setattr(rules_service, "PREPARED_KEPT", 2)
    make_customer(tenant, "ada", attributes={"tier": "silver"})
    make_segment(tenant, "gold")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    for n in range(4):
        put_rule(client, "gold", f"attributes.tier:gold attributes.n:{n}")
        change(tenant, "ada", attributes={"tier": "gold", "n": n})
        assert members("gold") == {("ada", None, "AUTOMATIC")}
        assert len(prepared()) == min(n + 1, 2)


@postgresql_only
def test_without_kept_statements_a_change_leaves_none(client, tenant, settings):
    settings.RULES_PREPARED_STATEMENTS = False
    make_customer(tenant, "ada", attributes={"tier": "silver"})
    make_segment(tenant, "gold")
    put_rule(client, "gold", "attributes.tier:gold")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    change(tenant, "ada", attributes={"tier": "gold"})
    assert members("gold") == {("ada", None, "AUTOMATIC")}
    change(tenant, "ada", attributes={"tier": "silver"})
    assert members("gold") == set()
    assert prepared() == []
    assert plan_cache_mode() == "auto"
