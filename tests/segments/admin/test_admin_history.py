"""A segment's history: every change (API, admin, command, rule) with its actor and the
fields that changed; a bulk write's many events are one expandable entry; the page's
queries are the same for one write and many."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from segments.choices import EventType
from segments.models import Event
from segments.services.rules import RuleInput, rule_upsert
from segments.services.segment_workspace import segment_customers_add
from segments.services.segments import SegmentFields, segment_create, segment_upsert
from segmentservice.actor import acting_as
from tests.factories import make_customer
from tests.querycounts import assert_same_queries

pytestmark = pytest.mark.django_db

BASE = "/admin/segments/segment"


@pytest.fixture
def spring(tenant):
    return segment_create(
        tenant=tenant,
        segment_id="spring",
        fields=SegmentFields(name={"en": "Spring VIP"}, site_code="main"),
    )


def history(client, segment, **params):
    response = client.get(f"{BASE}/{segment.pk}/history/", params)
    assert response.status_code == 200
    return response


def test_a_bulk_paste_is_one_expandable_entry(su_client, tenant, spring):
    for n in range(30):
        make_customer(tenant, f"c{n:02d}", first_name=f"N{n}", last_name="")
    ids = "\n".join(f"c{n:02d}" for n in range(30))
    su_client.post(f"{BASE}/{spring.pk}/members/paste/", {"ids": ids, "mode": "add", "_confirm": 1})
    assert Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_CREATED).count() == 30

    response = history(su_client, spring)

    bulk, created = response.context["entries"]
    assert (bulk["what"], bulk["actor"], bulk["count"]) == (
        "Customers added (30)",
        "root (admin)",
        30,
    )
    assert [item["subject"] for item in bulk["items"]] == [f"N{n} (c{n:02d})" for n in range(20)]
    assert bulk["more"] == 10
    assert (created["what"], created["count"], created["items"]) == ("Segment created", 1, [])
    assert response.context["page"].paginator.count == 2
    html = response.content.decode()
    assert (
        '<details class="history-items"><summary>Customers added (30) in one write</summary>'
        in html
    )
    assert "… and 10 more" in html


def test_separate_writes_stay_separate_entries(su_client, tenant, spring):
    make_customer(tenant, "anna")
    make_customer(tenant, "bert")
    with acting_as("api-client:shop"):
        segment_customers_add(tenant=tenant, segment_id="spring", customer_ids=["anna"])
    with acting_as("admin:mia"):
        segment_customers_add(tenant=tenant, segment_id="spring", customer_ids=["bert"])

    entries = history(su_client, spring).context["entries"]

    assert [(e["what"], e["actor"], e["count"]) for e in entries] == [
        ("Customer added", "mia (admin)", 1),
        ("Customer added", "API client shop", 1),
        ("Segment created", "system", 1),
    ]


def test_imports_commands_rules_and_admin_actions_are_in_the_history(
    su_client, tenant, spring, tmp_path
):
    make_customer(tenant, "ada", first_name="Ada", last_name="", attributes={"tier": "silver"})
    rule_upsert(
        tenant=tenant, segment_id="spring", data=RuleInput("attributes.tier:gold", "B2C", True)
    )
    directory = tmp_path / "directory.json"
    directory.write_text(
        json.dumps(
            {
                "customers": [
                    {"id": "ada", "attributes": {"tier": "gold"}},
                    {"id": "cy", "attributes": {"tier": "gold"}},
                ]
            }
        )
    )
    call_command("import_directory", str(directory), tenant="acme", stdout=io.StringIO())
    exported = tmp_path / "segments.json"
    exported.write_text(
        json.dumps([{"id": "spring", "name": {"en": "Spring VIP, imported"}, "siteCode": "main"}])
    )
    call_command("import_segments", str(exported), tenant="acme", stdout=io.StringIO())
    su_client.post(
        "/admin/segments/segment/",
        {"action": "activate", "_selected_action": [spring.pk]},
    )

    entries = history(su_client, spring).context["entries"]

    whats = [(e["what"], e["actor"]) for e in entries]
    assert whats[0] == ("Segment changed", "root (admin)")
    assert whats[1] == ("Segment changed", "command import_segments")
    assert entries[1]["changes"] == [("name", "en: Spring VIP", "en: Spring VIP, imported")]
    assert entries[0]["changes"] == [("status", "INACTIVE", "ACTIVE")]
    assert whats[2] == ("Customers added (2)", "rule spring")
    assert {item["subject"] for item in entries[2]["items"]} == {"Ada (ada)", "cy"}
    assert whats[-1] == ("Segment created", "system")


def test_an_api_change_shows_before_and_after(su_client, tenant, spring, manage_client):
    response = manage_client.put(
        "/customer-segment/acme/segments/spring",
        {"name": {"en": "Spring VIP", "de": "Frühling"}, "siteCode": "main", "status": "ACTIVE"},
        format="json",
    )
    assert response.status_code in (200, 204), response.content

    [changed, _] = history(su_client, spring).context["entries"]

    assert changed["what"] == "Segment changed" and changed["actor"].startswith("API client ")
    assert changed["changes"] == [
        ("name", "en: Spring VIP", "de: Frühling; en: Spring VIP"),
        ("status", "INACTIVE", "ACTIVE"),
    ]


def _writes(tenant, n: int) -> None:
    for w in range(n):
        ids = []
        for _ in range(3):
            ids.append(make_customer(tenant).external_id)
        with acting_as(f"admin:user{w}"):
            segment_customers_add(tenant=tenant, segment_id="spring", customer_ids=ids)
        with acting_as(f"api-client:c{w}"):
            segment_upsert(
                tenant=tenant,
                segment_id="spring",
                fields=SegmentFields(name={"en": f"Spring {w}"}, site_code="main"),
            )


def test_the_history_page_costs_the_same_for_one_write_and_many(su_client, tenant, spring):
    check = assert_same_queries("admin.workspace.history_groups", status=200)
    _writes(tenant, 1)
    history(su_client, spring)
    one = check(lambda: history(su_client, spring))
    assert len(one.context["entries"]) == 3
    _writes(tenant, 30)
    many = check(lambda: history(su_client, spring))
    assert len(many.context["entries"]) == 50
    assert {e["count"] for e in many.context["entries"]} == {1, 3}
