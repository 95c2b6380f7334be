"""The rule editor on the segment's page: q, assign, enabled, the live preview, evaluate
now, the last evaluation time and the member counts; every write through the rules service."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from segments.choices import EventType
from segments.models import CustomerAssignment, Event, SegmentRule
from segments.services.rules import RuleInput, rule_upsert
from tenants.models import StaffTenantAccess
from tests.factories import assign_customer, make_customer, make_segment

pytestmark = pytest.mark.django_db

BASE = "/admin/segments/segment"


@pytest.fixture
def gold(tenant):
    make_customer(tenant, "ada", first_name="Ada", attributes={"tier": "gold"})
    make_customer(tenant, "bob", first_name="Bob", attributes={"tier": "silver"})
    make_customer(tenant, "cy", first_name="Cy", attributes={"tier": "gold"})
    return make_segment(tenant, "gold", name={"en": "Gold"})


def members(segment) -> set[tuple[str, str]]:
    return set(
        CustomerAssignment.objects.filter(segment=segment).values_list(
            "customer__external_id", "assignment_type"
        )
    )


@pytest.fixture
def viewer_client(tenant) -> Client:
    user = get_user_model().objects.create_user("vera", "vera@example.com", None, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_segment"))
    StaffTenantAccess.objects.create(user=user, tenant=tenant)
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_the_segment_page_holds_the_rule_editor_with_its_preview(su_client, tenant, gold):
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )
    assign_customer(gold, make_customer(tenant, "dan"))

    html = su_client.get(f"{BASE}/{gold.pk}/change/").content.decode()

    assert f'<form method="post" action="{BASE}/{gold.pk}/rule/" id="segment-rule-form">' in html
    assert ">attributes.tier:gold</textarea>" in html
    assert 'id="rule-preview" data-url="/admin/segments/segmentrule/preview/"' in html
    assert f'data-segment="{gold.pk}"' in html
    assert "segments/rules.js" in html
    assert '<strong id="rule-member-count">2</strong> rule-made' in html
    assert '<strong id="segment-member-count">3</strong> assigned customers' in html
    stamp = SegmentRule.objects.get().last_evaluated_at.strftime("%Y-%m-%d %H:%M:%S")
    assert f'<strong id="rule-last-evaluated">{stamp} UTC</strong>' in html
    assert 'id="rule-evaluate"' in html


def test_a_segment_without_a_rule_offers_an_empty_editor(su_client, gold):
    html = su_client.get(f"{BASE}/{gold.pk}/change/").content.decode()
    assert "No rule yet" in html
    assert 'id="rule-save"' in html and 'id="rule-evaluate"' not in html


def test_the_preview_the_editor_posts_to_writes_nothing(su_client, gold):
    response = su_client.post(
        "/admin/segments/segmentrule/preview/",
        {"segment": gold.pk, "q": "attributes.tier:gold", "assign": "B2C"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["added"]["count"] == 2 and body["removed"]["count"] == 0
    assert members(gold) == set() and not SegmentRule.objects.exists()


def test_saving_from_the_segment_page_creates_and_evaluates_the_rule(su_client, gold):
    response = su_client.post(
        f"{BASE}/{gold.pk}/rule/",
        {"q": "attributes.tier:gold", "assign": "B2C", "enabled": "on", "_save_rule": 1},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/{gold.pk}/change/#segment-rule"
    assert messages_of(response) == [
        'Created the rule of "Gold" (gold) and evaluated it: 2 customers added, 0 removed.'
    ]
    assert members(gold) == {("ada", "AUTOMATIC"), ("cy", "AUTOMATIC")}
    created = Event.objects.filter(type=EventType.CUSTOMER_ASSIGNMENT_CREATED)
    assert {e.actor for e in created} == {"rule:gold"}


def test_a_refused_rule_comes_back_as_typed_with_the_reason(su_client, gold):
    response = su_client.post(
        f"{BASE}/{gold.pk}/rule/", {"q": "nope:1", "assign": "B2B", "_save_rule": 1}
    )

    assert response.status_code == 302
    [text] = messages_of(response)
    assert text.startswith("The rule was not saved: ") and "nope" in text
    html = su_client.get(response["Location"]).content.decode()
    assert ">nope:1</textarea>" in html
    assert '<option value="B2B" selected>' in html
    assert not SegmentRule.objects.exists()
    again = su_client.get(f"{BASE}/{gold.pk}/change/").content.decode()
    assert ">nope:1</textarea>" not in again  # the draft is shown once


def test_evaluate_now_and_delete_from_the_segment_page(su_client, tenant, gold):
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )
    CustomerAssignment.objects.filter(customer__external_id="cy").delete()  # behind its back

    response = su_client.post(f"{BASE}/{gold.pk}/rule/", {"_evaluate": 1})
    assert messages_of(response) == [
        'Evaluated the rule of "Gold" (gold): 1 customer added, 0 removed.'
    ]
    assert members(gold) == {("ada", "AUTOMATIC"), ("cy", "AUTOMATIC")}

    response = su_client.post(f"{BASE}/{gold.pk}/rule/", {"_delete_rule": 1})
    assert response.status_code == 302
    assert members(gold) == set() and not SegmentRule.objects.exists()


def test_a_viewer_sees_the_rule_but_cannot_write_it(tenant, gold, viewer_client):
    rule_upsert(
        tenant=tenant, segment_id="gold", data=RuleInput("attributes.tier:gold", "B2C", True)
    )
    html = viewer_client.get(f"{BASE}/{gold.pk}/change/").content.decode()
    assert "attributes.tier:gold</textarea>" in html and 'id="rule-save"' not in html
    response = viewer_client.post(f"{BASE}/{gold.pk}/rule/", {"_delete_rule": 1})
    assert response.status_code == 403
    assert SegmentRule.objects.exists()
