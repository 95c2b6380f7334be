"""The rules a segment must satisfy, as every write path reports them.

The rules are the service's (`segment_problems`); the input serializers check types only.
These cases pin the wire form of each rule for a single write and a bulk element, and that
a bulk element's rules are checked once.
"""

from __future__ import annotations

import pytest

from segments.models import Segment
from segments.services import segments as segment_services
from tests.conftest import MANAGE

pytestmark = pytest.mark.django_db

URL = "/customer-segment/acme/segments"
VALID = {"name": {"en": "Gold"}, "siteCode": "main"}
# (body changes, the field the API names, its message)
BROKEN = {
    "reversed validity": (
        {"validity": {"from": "2025-01-01T00:00:00.000Z", "to": "2024-01-01T00:00:00.000Z"}},
        "validity.from",
        "must be before validity.to.",
    ),
    "name in no language": ({"name": {}}, "name", "give the name in at least one language."),
    "reserved id": (
        {"id": "search"},
        "id",
        "'search' is reserved: /segments/search is another operation.",
    ),
    "id with a slash": (
        {"id": "a/b"},
        "id",
        "'a/b' must not contain whitespace, control characters, /, ?, #, % or \\.",
    ),
}


@pytest.fixture
def client(tenant, make_client):
    return make_client(tenant, MANAGE)


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_a_create_breaking_a_rule_is_a_400_naming_it(client, case):
    change, field, message = case

    response = client.post(URL, {**VALID, **change}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == f"{field}: {message}"
    assert body["details"] == {"field": field, "type": "invalid", "message": message}
    assert not Segment.objects.exists()


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_a_bulk_element_breaking_a_rule_is_a_400_entry_and_the_others_are_written(client, case):
    change, field, message = case
    element = {"id": "broken", **VALID, **change}

    response = client.post(f"{URL}/bulk", [{"id": "ok", **VALID}, element], format="json")

    assert response.status_code == 207, response.content
    assert response.json() == [
        {"index": 1, "id": "ok", "code": 201, "status": "Created"},
        {
            "index": 2,
            "id": element["id"],
            "code": 400,
            "status": "Bad Request",
            "message": f"{field}: {message}",
        },
    ]
    assert list(Segment.objects.values_list("external_id", flat=True)) == ["ok"]


def test_two_broken_rules_are_named_in_one_message(client):
    response = client.post(URL, {**VALID, "id": "search", "name": {}}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["message"] == (
        "id: 'search' is reserved: /segments/search is another operation.; "
        "name: give the name in at least one language."
    )
    assert "details" not in response.json()


def test_a_bulk_element_s_rules_are_checked_once(client, monkeypatch):
    calls = []
    check = segment_services.segment_problems

    def counted(*args, **kwargs):
        calls.append(1)
        return check(*args, **kwargs)

    monkeypatch.setattr(segment_services, "segment_problems", counted)

    response = client.put(
        f"{URL}/bulk", [{"id": f"s{i}", **VALID} for i in range(3)], format="json"
    )

    assert response.status_code == 207, response.content
    assert len(calls) == 3
