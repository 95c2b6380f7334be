"""`manage.py prune_events`: old events go once every active endpoint has been sent them."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from segments.models import Event, WebhookEndpoint
from segments.services.webhooks import webhooks_deliver
from tests.segments.test_webhooks import record

COMMITTING = pytest.mark.django_db(transaction=True)


def age(events, days: int) -> None:
    Event.objects.filter(id__in=[e.id for e in events]).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_events", *args, "--no-progress", stdout=out)
    return out.getvalue()


@COMMITTING
def test_delivered_old_events_go_and_pending_or_recent_ones_stay(tenant, other_tenant):
    WebhookEndpoint.objects.create(tenant=tenant, url="http://127.0.0.1:9/", secret="s")
    delivered = record(tenant, 3)
    webhooks_deliver(send=lambda url, body, headers: 204)
    pending = record(tenant, 2, prefix="late")
    no_endpoint = record(other_tenant, 2)
    recent = record(other_tenant, 1, prefix="new")
    age(delivered + pending + no_endpoint, days=40)

    assert prune("--older-than", "30") == "Deleted 5 events older than 30 days.\n"

    kept = set(Event.objects.values_list("id", flat=True))
    assert kept == {e.id for e in pending + recent}


@COMMITTING
def test_a_replay_keeps_the_events_it_asked_for(tenant):
    WebhookEndpoint.objects.create(tenant=tenant, url="http://127.0.0.1:9/", secret="s")
    events = record(tenant, 4)
    webhooks_deliver(send=lambda url, body, headers: 204)
    age(events, days=40)
    WebhookEndpoint.objects.update(replay_from_event_id=events[2].id)

    assert prune("--older-than", "30", "--batch-size", "1") == (
        "Deleted 2 events older than 30 days.\n"
    )
    assert set(Event.objects.values_list("id", flat=True)) == {events[2].id, events[3].id}


@COMMITTING
def test_an_inactive_endpoint_keeps_nothing(tenant):
    WebhookEndpoint.objects.create(
        tenant=tenant, url="http://127.0.0.1:9/", secret="s", is_active=False
    )
    age(record(tenant, 2), days=40)

    assert prune("--older-than", "30") == "Deleted 2 events older than 30 days.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "-1"], "--older-than must be 0 or more days."),
        (["--older-than", "1", "--batch-size", "0"], "--batch-size must be at least 1."),
    ],
)
def test_bad_arguments_are_refused(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("prune_events", *args)
