"""Webhook endpoints in the admin: a new one starts at its creation, a replay is asked here."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from segments.admin.events import WebhookEndpointForm
from segments.choices import EventType
from segments.models import WebhookEndpoint
from segments.services.events import event_record
from segments.services.webhooks import webhooks_deliver
from tests.receiver import Receiver

User = get_user_model()
ENDPOINTS = "/admin/segments/webhookendpoint/"

# Delivery goes by commits: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def browser(tenant) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", None))
    return client


def record(tenant, n: int):
    return [
        event_record(tenant=tenant, type=EventType.SEGMENT_CREATED, resource_id=f"s{i}", payload={})
        for i in range(n)
    ]


def form(receiver, **extra) -> dict:
    return {"tenant": "acme", "url": receiver.url, "secret": "s3cret", "is_active": "on", **extra}


def test_an_endpoint_added_in_the_admin_gets_only_later_events(tenant, browser, receiver):
    record(tenant, 2)

    response = browser.post(f"{ENDPOINTS}add/?tenant=acme", form(receiver))

    assert response.status_code == 302
    later = record(tenant, 1)
    webhooks_deliver()
    assert receiver.ids() == [later[0].id]


def test_a_replay_asked_in_the_admin_resends_from_that_event(tenant, browser, receiver):
    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s3cret")
    events = record(tenant, 3)
    webhooks_deliver()

    response = browser.post(
        f"{ENDPOINTS}{endpoint.pk}/change/", form(receiver, replay_from_event_id=events[1].id)
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.replay_from_event_id == events[1].id
    assert endpoint.last_event_id == events[2].id  # the delivery state is the worker's
    webhooks_deliver()
    ids = [e.id for e in events]
    assert receiver.ids() == ids + ids[1:]
    endpoint.refresh_from_db()
    assert endpoint.replay_from_event_id is None


def test_saving_an_endpoint_keeps_what_a_worker_wrote_meanwhile(
    tenant, browser, receiver, monkeypatch
):
    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s3cret")
    original_clean = WebhookEndpointForm.clean

    def clean_while_a_worker_delivers(self):
        # The form holds the row as it was read; a delivery worker moves on meanwhile.
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(batch_after_id=41, last_event_id=41)
        return original_clean(self)

    monkeypatch.setattr(WebhookEndpointForm, "clean", clean_while_a_worker_delivers)

    response = browser.post(f"{ENDPOINTS}{endpoint.pk}/change/", form(receiver, secret="new"))

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.batch_after_id, endpoint.last_event_id) == ("new", 41, 41)
