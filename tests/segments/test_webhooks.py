"""Webhook delivery over real HTTP on loopback: signed, ordered, retried, never lost.

Every test commits for real (`transaction=True`): delivery goes by which transactions have
committed, and runs outside any transaction itself.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from segments.choices import EventType
from segments.models import WebhookEndpoint
from segments.services import webhooks
from segments.services.events import event_record
from segments.services.webhooks import backoff_seconds, http_send, webhooks_deliver
from tests.receiver import Receiver

COMMITTING = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def endpoint(tenant, receiver):
    return WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s3cret")


def record(tenant, n: int, type_=EventType.SEGMENT_CREATED, prefix: str = "seg"):
    return [
        event_record(
            tenant=tenant, type=type_, resource_id=f"{prefix}{i}", payload={"id": f"{prefix}{i}"}
        )
        for i in range(n)
    ]


def make_due(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(id=endpoint.id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@COMMITTING
class TestDelivery:
    def test_events_arrive_in_order_signed_and_naming_their_actor(self, tenant, endpoint, receiver):
        events = record(tenant, 3)
        report = webhooks_deliver()
        assert report.delivered == 3
        assert receiver.ids() == [e.id for e in events]
        headers, body, _ = receiver.received[0]
        expected = hmac.new(
            b"s3cret", headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-Signature"] == f"sha256={expected}"
        assert headers["X-Event-Type"] == "customer-segment.segment-created"
        assert headers["X-Event-Id"] == str(events[0].id)
        document = receiver.documents()[0]
        assert set(document) == {"id", "type", "tenant", "resourceId", "actor", "createdAt", "data"}
        assert document["tenant"] == "acme"
        assert document["resourceId"] == "seg0"
        assert document["actor"] == "system"
        assert document["data"] == {"id": "seg0"}
        endpoint.refresh_from_db()
        assert endpoint.last_event_id == events[-1].id
        assert endpoint.lease_token == ""

    def test_nothing_is_sent_twice(self, tenant, endpoint, receiver):
        record(tenant, 2)
        webhooks_deliver()
        assert webhooks_deliver().delivered == 0
        assert len(receiver.received) == 2

    def test_a_failing_receiver_gets_everything_after_recovery_in_order_with_backoff(
        self, tenant, endpoint, receiver
    ):
        # Two resources, interleaved: a0 b0 a1 b1.
        events = [
            event_record(tenant=tenant, type=EventType.SEGMENT_UPDATED, resource_id=r, payload={})
            for r in ("a", "b", "a", "b")
        ]
        receiver.status = 500
        before = timezone.now()
        report = webhooks_deliver()
        assert (report.delivered, report.failed_endpoints) == (0, 1)
        endpoint.refresh_from_db()
        assert endpoint.failures == 1
        assert "HTTP 500" in endpoint.last_error
        assert endpoint.lease_token == ""
        first_wait = (endpoint.next_attempt_at - before).total_seconds()
        assert backoff_seconds(1) <= first_wait < backoff_seconds(1) + 2
        # Not due yet: nothing is attempted.
        assert webhooks_deliver() == webhooks.DeliveryReport(delivered=0, failed_endpoints=0)
        assert len(receiver.received) == 1
        # Due, failing again: the wait doubles.
        make_due(endpoint)
        before = timezone.now()
        webhooks_deliver()
        endpoint.refresh_from_db()
        assert endpoint.failures == 2
        second_wait = (endpoint.next_attempt_at - before).total_seconds()
        assert backoff_seconds(2) <= second_wait < backoff_seconds(2) + 2
        # Due again and the receiver recovered: every event, in order, the first one first.
        receiver.status = 204
        make_due(endpoint)
        assert webhooks_deliver().delivered == 4
        ids = [e.id for e in events]
        assert receiver.ids() == [ids[0], ids[0], *ids]
        resources = [d["resourceId"] for d in receiver.documents(acknowledged_only=True)]
        assert resources == ["a", "b", "a", "b"]
        endpoint.refresh_from_db()
        assert (endpoint.failures, endpoint.last_error, endpoint.last_event_id) == (0, "", ids[-1])

    def test_a_failure_mid_batch_resumes_at_the_failed_event(self, tenant):
        receiver = Receiver(answer=lambda n: 500 if n == 2 else 200)
        endpoint = WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="x")
        events = record(tenant, 4)
        assert webhooks_deliver().delivered == 2
        newer = record(tenant, 1, prefix="new")
        make_due(endpoint)
        assert webhooks_deliver().delivered == 3
        ids = [e.id for e in events]
        assert receiver.ids() == [ids[0], ids[1], ids[2], ids[2], ids[3], newer[0].id]
        receiver.close()

    def test_unreachable_endpoint_is_retried_later(self, tenant):
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/unreachable", secret="x"
        )
        record(tenant, 1)
        assert webhooks_deliver().failed_endpoints == 1
        endpoint.refresh_from_db()
        assert "unreachable" in endpoint.last_error
        assert endpoint.next_attempt_at > timezone.now()

    def test_only_the_subscribed_types_and_own_tenant(self, tenant, other_tenant, receiver):
        WebhookEndpoint.objects.create(
            tenant=tenant,
            url=receiver.url,
            secret="x",
            event_types=[EventType.SEGMENT_DELETED],
        )
        record(tenant, 1, EventType.SEGMENT_CREATED)
        record(tenant, 1, EventType.SEGMENT_DELETED)
        record(other_tenant, 1, EventType.SEGMENT_DELETED)
        assert webhooks_deliver().delivered == 1
        ((headers, _, _),) = receiver.received
        assert headers["X-Event-Type"] == "customer-segment.segment-deleted"
        assert receiver.documents()[0]["tenant"] == "acme"

    def test_inactive_endpoints_get_nothing(self, tenant, endpoint, receiver):
        WebhookEndpoint.objects.filter(id=endpoint.id).update(is_active=False)
        record(tenant, 1)
        assert webhooks_deliver().delivered == 0

    def test_sends_happen_outside_any_transaction(self, tenant, endpoint, receiver):
        record(tenant, 3)
        seen = []

        def send(url, body, headers):
            seen.append(_in_transaction())
            return http_send(url, body, headers)

        assert webhooks_deliver(send=send).delivered == 3
        assert seen == [False, False, False]


def _in_transaction() -> bool:
    """Whether this thread's connection has a transaction open, as the database sees it."""
    if connection.connection is None:
        return False
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        return connection.connection.info.transaction_status != TransactionStatus.IDLE
    return connection.in_atomic_block or connection.connection.in_transaction


@COMMITTING
class TestWorkers:
    def test_an_endpoint_another_worker_holds_is_left_to_it_until_its_lease_expires(
        self, tenant, endpoint, receiver
    ):
        record(tenant, 2)
        held_until = timezone.now() + timedelta(seconds=60)
        WebhookEndpoint.objects.filter(id=endpoint.id).update(
            lease_token="other-worker", lease_expires_at=held_until
        )
        assert webhooks_deliver().delivered == 0
        assert receiver.received == []
        WebhookEndpoint.objects.filter(id=endpoint.id).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert webhooks_deliver().delivered == 2

    def test_a_worker_that_lost_its_lease_sends_nothing_more(self, tenant, endpoint, receiver):
        events = record(tenant, 3)

        def send(url, body, headers):
            status = http_send(url, body, headers)
            # Meanwhile the lease expired and another worker took the endpoint over.
            WebhookEndpoint.objects.filter(id=endpoint.id).update(lease_token="other-worker")
            return status

        assert webhooks_deliver(send=send).delivered == 1
        assert receiver.ids() == [events[0].id]
        endpoint.refresh_from_db()
        assert endpoint.lease_token == "other-worker"
        assert endpoint.batch_after_id == 0  # its progress is the other worker's to write


@COMMITTING
class TestPositions:
    def test_a_new_endpoint_gets_only_the_events_recorded_after_its_creation(
        self, tenant, receiver
    ):
        record(tenant, 2, prefix="old")
        endpoint = WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="x")
        newer = record(tenant, 2, prefix="new")
        assert webhooks_deliver().delivered == 2
        assert receiver.ids() == [e.id for e in newer]
        endpoint.refresh_from_db()
        assert endpoint.last_event_id == newer[-1].id

    def test_replay_from_an_event_id_resends_from_there_then_carries_on(
        self, tenant, endpoint, receiver
    ):
        events = record(tenant, 4)
        webhooks_deliver()
        out = io.StringIO()
        call_command(
            "deliver_events",
            "--once",
            "--replay-from",
            str(events[1].id),
            "--endpoint",
            str(endpoint.id),
            stdout=out,
        )
        assert out.getvalue().splitlines() == [
            f"Endpoint {endpoint.id} will be sent every event from {events[1].id} on.",
            "Delivered 3 event(s); 0 endpoint(s) will be retried.",
        ]
        ids = [e.id for e in events]
        assert receiver.ids() == ids + ids[1:]
        endpoint.refresh_from_db()
        assert endpoint.replay_from_event_id is None
        later = record(tenant, 1, prefix="later")
        assert webhooks_deliver().delivered == 1
        assert receiver.ids()[-1] == later[0].id

    def test_once_drains_every_pending_event_whatever_the_batch_size(
        self, tenant, endpoint, receiver
    ):
        events = record(tenant, 7)
        out = io.StringIO()
        call_command("deliver_events", "--once", "--batch-size", "3", stdout=out)
        assert out.getvalue().strip() == "Delivered 7 event(s); 0 endpoint(s) will be retried."
        assert receiver.ids() == [e.id for e in events]


@pytest.mark.django_db
class TestCommandArguments:
    @pytest.mark.parametrize(
        "arguments, message",
        [
            (
                ["--replay-from", "3"],
                "--replay-from needs --endpoint: which endpoint to send them to.",
            ),
            (
                ["--replay-from", "0", "--endpoint", "1"],
                "--replay-from must be an event id (1 or more).",
            ),
            (
                ["--replay-from", "3", "--endpoint", "999999"],
                "There is no webhook endpoint with id 999999.",
            ),
            (["--batch-size", "0"], "--batch-size must be at least 1."),
        ],
    )
    def test_command_refuses_bad_arguments(self, tenant, arguments, message):
        with pytest.raises(CommandError) as error:
            call_command("deliver_events", "--once", *arguments, stdout=io.StringIO())
        assert str(error.value) == message


@pytest.mark.parametrize("failures, seconds", [(1, 5), (2, 10), (3, 20), (20, 3600)])
def test_backoff_doubles_up_to_an_hour(failures, seconds):
    assert backoff_seconds(failures) == seconds
