"""A write the database aborts for a concurrent one runs once more, then answers 503 JSON.

The abort is simulated where the services record their events, after their rows are
written, so a retried request also shows that the first run left nothing behind.
"""

from __future__ import annotations

from importlib import import_module

import psycopg
import pytest
from django.db import OperationalError

from segments.models import CustomerAssignment, Event, ItemAssignment, Segment
from tests.conftest import MANAGE
from tests.factories import make_customer, make_product, make_segment

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "/customer-segment/acme/segments"
MESSAGE = (
    "The write collided with concurrent writes of the same resources and was rolled back; "
    "nothing was written. Retry the request."
)


@pytest.fixture
def world(tenant):
    make_segment(tenant, "gold")
    make_customer(tenant, "c1")
    make_product(tenant, "p1")


# (request, the services module whose events_record is made to fail, the rows it writes)
WRITES = {
    "segments bulk PUT": (
        lambda client: client.put(
            f"{BASE}/bulk", [{"id": "s1", "name": {"en": "S1"}, "siteCode": "main"}], format="json"
        ),
        "segments.services.segments",
        lambda: Segment.objects.filter(external_id="s1"),
    ),
    "customer assignments bulk PUT": (
        lambda client: client.put(
            f"{BASE}/gold/customers/bulk", [{"customerId": "c1"}], format="json"
        ),
        "segments.services.assignment_pipeline",
        lambda: CustomerAssignment.objects.all(),
    ),
    "item assignments bulk PUT": (
        lambda client: client.put(f"{BASE}/gold/items/product/bulk", [{"id": "p1"}], format="json"),
        "segments.services.assignment_pipeline",
        lambda: ItemAssignment.objects.all(),
    ),
    "segment PUT": (
        lambda client: client.put(
            f"{BASE}/s1", {"name": {"en": "S1"}, "siteCode": "main"}, format="json"
        ),
        "segments.services.segments",
        lambda: Segment.objects.filter(external_id="s1"),
    ),
}


def abort_events(monkeypatch, module: str, *, times: int) -> list[int]:
    """Make the module's first `times` event writes fail as a deadlock victim's would."""
    target = import_module(module)
    record = target.events_record
    calls: list[int] = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) <= times:
            error = OperationalError("deadlock detected")
            error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
            raise error
        return record(**kwargs)

    monkeypatch.setattr(target, "events_record", flaky)
    return calls


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_aborted_once_succeeds_and_is_written_once(
    world, make_client, tenant, monkeypatch, write
):
    send, module, rows = write
    calls = abort_events(monkeypatch, module, times=1)

    response = send(make_client(tenant, MANAGE))

    assert response.status_code in (201, 207), response.content
    if response.status_code == 207:
        assert [entry["code"] for entry in response.json()] == [201]
    assert len(calls) == 2
    assert rows().count() == 1
    assert Event.objects.count() == 1


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_aborted_twice_is_a_503_and_writes_nothing(
    world, make_client, tenant, monkeypatch, write
):
    send, module, rows = write
    calls = abort_events(monkeypatch, module, times=2)

    response = send(make_client(tenant, MANAGE))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": 503, "status": "Service Unavailable", "message": MESSAGE}
    assert len(calls) == 2
    assert not rows().exists()
    assert not Event.objects.exists()
