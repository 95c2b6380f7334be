"""`/metrics`: its protection and what it counts, read as a Prometheus scrape reads it."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from segments.models import WebhookEndpoint
from segments.services.webhooks import webhooks_deliver

METRICS_TOKEN = "m" * 32
SEGMENT = "customer-segment/<str:tenant>/segments/<str:segment_id>"


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN


class TestProtection:
    def test_off_without_a_token(self, client, settings):
        settings.METRICS_TOKEN = ""
        response = client.get("/metrics")
        assert response.status_code == 403
        assert response.json() == {
            "code": 403,
            "status": "Forbidden",
            "message": "Metrics are off: set METRICS_TOKEN to serve them at /metrics.",
        }

    @pytest.mark.parametrize(
        "header", [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"]
    )
    def test_a_missing_or_wrong_token_is_401(self, client, metrics_on, header):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get("/metrics", **extra)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert response.json()["message"] == (
            "The metrics need Authorization: Bearer <the METRICS_TOKEN setting>."
        )
        assert b"segment_service" not in response.content

    def test_only_get(self, client, metrics_on):
        response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
        assert response.status_code == 405
        assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
class TestRequestMetrics:
    def test_latency_requests_and_queries_per_route_template(
        self, client, metrics_on, admin_client_api, tenant
    ):
        before = scrape(client)
        created = admin_client_api.post(
            "/customer-segment/acme/segments",
            {"id": "gold", "name": {"en": "Gold"}, "siteCode": "main", "status": "ACTIVE"},
            format="json",
        )
        assert created.status_code == 201
        for _ in range(3):
            assert admin_client_api.get("/customer-segment/acme/segments/gold").status_code == 200
        assert admin_client_api.get("/customer-segment/acme/segments/nope").status_code == 404
        after = scrape(client)

        def grew(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        hist = "segment_service_http_request_duration_seconds"
        assert grew(f"{hist}_count", method="GET", route=SEGMENT) == 4
        assert grew(f"{hist}_bucket", method="GET", route=SEGMENT, le="+Inf") == 4
        assert grew(f"{hist}_sum", method="GET", route=SEGMENT) > 0
        requests = "segment_service_http_requests_total"
        assert grew(requests, method="GET", route=SEGMENT, status="200") == 3
        assert grew(requests, method="GET", route=SEGMENT, status="404") == 1
        assert (
            grew(
                requests,
                method="POST",
                route="customer-segment/<str:tenant>/segments",
                status="201",
            )
            == 1
        )
        assert grew("segment_service_db_queries_total", method="GET", route=SEGMENT) >= 4
        # No raw path or segment id becomes a label.
        assert not [key for key in after if "gold" in str(key) or "nope" in str(key)]

    def test_unknown_paths_and_methods_share_one_label(self, client, metrics_on):
        before = scrape(client)
        client.get("/no/such/thing")
        client.get("/another/one")
        client.generic("BREW", "/healthz")
        after = scrape(client)
        name = "segment_service_http_requests_total"
        key = {"method": "GET", "route": "unmatched", "status": "404"}
        assert value(after, name, **key) - value(before, name, **key) == 2
        assert (
            value(after, name, method="OTHER", route="healthz", status="405")
            - value(before, name, method="OTHER", route="healthz", status="405")
            == 1
        )


@pytest.mark.django_db
# Delivery sends what committed transactions recorded (on PostgreSQL, by snapshot), so
# these tests commit for real instead of running inside one rolled-back transaction.
@pytest.mark.django_db(transaction=True)
class TestWebhookMetrics:
    def test_backlog_and_failures_per_endpoint(self, client, metrics_on, manage_client, tenant):
        failing = WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/unreachable", secret="s"
        )
        only_deletes = WebhookEndpoint.objects.create(
            tenant=tenant,
            url="http://127.0.0.1:9/deletes",
            secret="s",
            event_types=["customer-segment.segment-deleted"],
        )
        WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/off", secret="s", is_active=False
        )
        for segment_id in ("a", "b"):
            response = manage_client.post(
                "/customer-segment/acme/segments",
                {"id": segment_id, "name": {"en": segment_id}, "siteCode": "main"},
                format="json",
            )
            assert response.status_code == 201
        webhooks_deliver(send=lambda url, body, headers: 503)
        samples = scrape(client)
        labels = {"endpoint": str(failing.id), "tenant": "acme"}
        assert value(samples, "segment_service_webhook_backlog_events", **labels) == 2
        assert value(samples, "segment_service_webhook_delivery_failures", **labels) == 1
        deletes = {"endpoint": str(only_deletes.id), "tenant": "acme"}
        assert value(samples, "segment_service_webhook_backlog_events", **deletes) == 0
        # Inactive endpoints are not reported.
        reported = {
            dict(key[1]).get("endpoint")
            for key in samples
            if key[0] == "segment_service_webhook_backlog_events"
        }
        assert reported == {str(failing.id), str(only_deletes.id)}

    def test_delivered_events_leave_the_backlog(self, client, metrics_on, manage_client, tenant):
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/", secret="s"
        )
        manage_client.post(
            "/customer-segment/acme/segments",
            {"id": "a", "name": {"en": "a"}, "siteCode": "main"},
            format="json",
        )
        webhooks_deliver(send=lambda url, body, headers: 204)
        samples = scrape(client)
        labels = {"endpoint": str(endpoint.id), "tenant": "acme"}
        assert value(samples, "segment_service_webhook_backlog_events", **labels) == 0
        assert value(samples, "segment_service_webhook_delivery_failures", **labels) == 0
