"""Webhook delivery against real concurrency on PostgreSQL: out-of-order commits, racing workers."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict

from django.db import connections, transaction

from segments.choices import EventType
from segments.models import Event, Segment, WebhookEndpoint
from segments.services import webhooks
from segments.services.events import event_record
from segments.services.webhooks import webhooks_deliver
from tests.concurrency import POSTGRES_RACE
from tests.factories import make_segment
from tests.receiver import Receiver

pytestmark = POSTGRES_RACE


def test_an_event_committed_after_a_later_numbered_one_is_still_delivered_once(tenant):
    receiver = Receiver()
    WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s")
    recorded, release = threading.Event(), threading.Event()
    slow: dict = {}

    def slow_transaction() -> None:
        try:
            with transaction.atomic():
                slow["event"] = event_record(
                    tenant=tenant, type=EventType.SEGMENT_CREATED, resource_id="slow", payload={}
                )
                recorded.set()
                release.wait(20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_transaction)
    thread.start()
    try:
        assert recorded.wait(20)
        fast = event_record(
            tenant=tenant, type=EventType.SEGMENT_CREATED, resource_id="fast", payload={}
        )
        assert fast.id > slow["event"].id  # the later number commits first
        webhooks_deliver()
        assert receiver.ids() == [fast.id]
    finally:
        release.set()
        thread.join(20)
    webhooks_deliver()
    webhooks_deliver()
    assert receiver.ids() == [fast.id, slow["event"].id]
    receiver.close()


def test_an_endpoint_created_while_a_transaction_is_open_gets_that_transactions_event(tenant):
    receiver = Receiver()
    recorded, release = threading.Event(), threading.Event()
    slow: dict = {}

    def slow_transaction() -> None:
        try:
            with transaction.atomic():
                slow["event"] = event_record(
                    tenant=tenant, type=EventType.SEGMENT_CREATED, resource_id="slow", payload={}
                )
                recorded.set()
                release.wait(20)
        finally:
            connections.close_all()

    event_record(tenant=tenant, type=EventType.SEGMENT_CREATED, resource_id="old", payload={})
    thread = threading.Thread(target=slow_transaction)
    thread.start()
    assert recorded.wait(20)
    WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s")
    release.set()
    thread.join(20)
    webhooks_deliver()
    assert receiver.ids() == [slow["event"].id]
    receiver.close()


WRITERS = 4
WORKERS = 3
ROUNDS = 25
SEGMENTS = 5


def test_racing_workers_send_every_event_once_per_endpoint_in_order_per_resource(
    tenant, monkeypatch
):
    # Retries come at once, so the flaky endpoint's failures are retried within the test.
    monkeypatch.setattr(webhooks, "BACKOFF_BASE_SECONDS", 0)
    receivers = [Receiver(), Receiver(), Receiver(answer=lambda n: 503 if n % 5 == 4 else 200)]
    for receiver in receivers:
        WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s")
    for i in range(SEGMENTS):
        make_segment(tenant, f"s{i}")
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []

    def write(number: int) -> None:
        """Like every service: lock the resource, change it, record the event; commit late."""
        rng = random.Random(number)
        try:
            for _ in range(ROUNDS):
                segment_id = f"s{rng.randrange(SEGMENTS)}"
                with transaction.atomic():
                    segment = Segment.objects.select_for_update().get(
                        tenant=tenant, external_id=segment_id
                    )
                    segment.version += 1
                    segment.save(update_fields=["version"])
                    event_record(
                        tenant=tenant,
                        type=EventType.SEGMENT_UPDATED,
                        resource_id=segment_id,
                        payload={"version": segment.version},
                    )
                    time.sleep(rng.random() * 0.02)  # commit after others took later ids
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def work() -> None:
        try:
            while writing.is_set():
                webhooks_deliver(batch_size=4)
                time.sleep(0.002)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    workers = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in writers + workers:
        thread.start()
    for thread in writers:
        thread.join(60)
    writing.clear()
    for thread in workers:
        thread.join(60)
    for _ in range(200):  # whatever the flaky endpoint still refused
        if webhooks_deliver() == webhooks.DeliveryReport(delivered=0, failed_endpoints=0):
            break
    assert errors == []

    expected = sorted(Event.objects.filter(tenant=tenant).values_list("id", flat=True))
    assert len(expected) == WRITERS * ROUNDS
    for number, receiver in enumerate(receivers):
        acknowledged = receiver.ids(acknowledged_only=True)
        assert Counter(acknowledged) == Counter(expected), f"endpoint {number}"
        versions: dict[str, list[int]] = defaultdict(list)
        for document in receiver.documents(acknowledged_only=True):
            versions[document["resourceId"]].append(document["data"]["version"])
        for segment_id, seen in versions.items():
            assert seen == sorted(seen), f"endpoint {number}, {segment_id} reordered"
        receiver.close()
    # The reliable endpoints were never sent an event twice, even while workers raced.
    assert all(len(r.ids()) == len(expected) for r in receivers[:2])
    assert WebhookEndpoint.objects.exclude(lease_token="").count() == 0


def test_workers_started_together_share_no_endpoint(tenant):
    workers = 2
    receivers = [Receiver() for _ in range(4)]
    for receiver in receivers:
        WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s")
    events = [
        event_record(tenant=tenant, type=EventType.SEGMENT_CREATED, resource_id=f"s{i}", payload={})
        for i in range(20)
    ]
    barrier = threading.Barrier(workers)
    reports = []

    def work() -> None:
        try:
            barrier.wait()
            reports.append(webhooks_deliver(batch_size=3))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.delivered for r in reports) == len(receivers) * len(events)
    for receiver in receivers:
        assert receiver.ids() == [e.id for e in events]
        receiver.close()
