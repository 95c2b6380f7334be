"""Webhook delivery over real HTTP on loopback: signed, ordered, retried, never lost."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone

from segments.choices import EventType
from segments.models import WebhookEndpoint
from segments.services.events import event_record
from segments.services.webhooks import backoff_seconds, webhooks_deliver


class Receiver:
    """A loopback HTTP server that records what it is sent and answers `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def endpoint(tenant, receiver):
    return WebhookEndpoint.objects.create(tenant=tenant, url=receiver.url, secret="s3cret")


def record(tenant, n: int, type_=EventType.SEGMENT_CREATED):
    return [
        event_record(tenant=tenant, type=type_, resource_id=f"seg{i}", payload={"id": f"seg{i}"})
        for i in range(n)
    ]


@pytest.mark.django_db
class TestDelivery:
    def test_events_arrive_in_order_and_signed(self, tenant, endpoint, receiver):
        events = record(tenant, 3)
        report = webhooks_deliver()
        assert report.delivered == 3
        assert [json.loads(body)["id"] for _, body in receiver.received] == [e.id for e in events]
        headers, body = receiver.received[0]
        expected = hmac.new(
            b"s3cret", headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["X-Signature"] == f"sha256={expected}"
        assert headers["X-Event-Type"] == "customer-segment.segment-created"
        document = json.loads(body)
        assert document["tenant"] == "acme"
        assert document["resourceId"] == "seg0"
        assert document["data"] == {"id": "seg0"}
        endpoint.refresh_from_db()
        assert endpoint.last_event_id == events[-1].id

    def test_nothing_is_sent_twice(self, tenant, endpoint, receiver):
        record(tenant, 2)
        webhooks_deliver()
        assert webhooks_deliver().delivered == 0
        assert len(receiver.received) == 2

    def test_failure_keeps_the_event_and_backs_off(self, tenant, endpoint, receiver):
        events = record(tenant, 2)
        receiver.status = 500
        report = webhooks_deliver()
        assert (report.delivered, report.failed_endpoints) == (0, 1)
        endpoint.refresh_from_db()
        assert endpoint.last_event_id == 0
        assert endpoint.failures == 1
        assert endpoint.next_attempt_at > timezone.now()
        assert "HTTP 500" in endpoint.last_error
        # Not due yet: nothing is attempted.
        assert webhooks_deliver().delivered == 0
        assert len(receiver.received) == 1
        # Due again and the receiver recovered: both events, still in order.
        receiver.status = 204
        WebhookEndpoint.objects.filter(id=endpoint.id).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        assert webhooks_deliver().delivered == 2
        ids = [json.loads(body)["id"] for _, body in receiver.received]
        assert ids == [events[0].id, events[0].id, events[1].id]
        endpoint.refresh_from_db()
        assert (endpoint.failures, endpoint.last_error) == (0, "")

    def test_unreachable_endpoint_is_retried_later(self, tenant):
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/unreachable", secret="x"
        )
        record(tenant, 1)
        assert webhooks_deliver().failed_endpoints == 1
        endpoint.refresh_from_db()
        assert "unreachable" in endpoint.last_error

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
        ((headers, body),) = receiver.received
        assert headers["X-Event-Type"] == "customer-segment.segment-deleted"
        assert json.loads(body)["tenant"] == "acme"

    def test_inactive_endpoints_get_nothing(self, tenant, endpoint, receiver):
        WebhookEndpoint.objects.filter(id=endpoint.id).update(is_active=False)
        record(tenant, 1)
        assert webhooks_deliver().delivered == 0

    def test_command_runs_once(self, tenant, endpoint, receiver):
        record(tenant, 2)
        out = io.StringIO()
        call_command("deliver_events", "--once", stdout=out)
        assert out.getvalue().strip() == "Delivered 2 event(s); 0 endpoint(s) will be retried."


@pytest.mark.parametrize("failures, seconds", [(1, 5), (2, 10), (3, 20), (20, 3600)])
def test_backoff_doubles_up_to_an_hour(failures, seconds):
    assert backoff_seconds(failures) == seconds
