"""`manage.py deliver_events [--once] [--interval SECONDS] [--replay-from ID --endpoint ID]`.

Sends change events to the webhook endpoints. Several of these may run at once: each
endpoint is served by one of them at a time.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.models import WebhookEndpoint
from segments.services.webhooks import webhook_endpoint_replay, webhooks_deliver


class Command(BaseCommand):
    help = "Deliver recorded change events to the configured webhook endpoints, in order, with retries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Deliver everything pending, then exit."
        )
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between runs.")
        parser.add_argument(
            "--batch-size", type=int, default=100, help="Events read from the database at a time."
        )
        parser.add_argument(
            "--replay-from",
            type=int,
            metavar="EVENT_ID",
            help="Send the endpoint given by --endpoint every event from this id on again.",
        )
        parser.add_argument("--endpoint", type=int, metavar="ID", help="A webhook endpoint's id.")

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["replay_from"] is not None:
            self._request_replay(options["endpoint"], options["replay_from"])
        while True:
            report = webhooks_deliver(batch_size=options["batch_size"])
            if report.delivered or report.failed_endpoints or options["once"]:
                self.stdout.write(
                    f"Delivered {report.delivered} event(s); "
                    f"{report.failed_endpoints} endpoint(s) will be retried."
                )
            if options["once"]:
                return
            time.sleep(options["interval"])

    def _request_replay(self, endpoint_id: int | None, from_event_id: int) -> None:
        if endpoint_id is None:
            raise CommandError("--replay-from needs --endpoint: which endpoint to send them to.")
        if from_event_id < 1:
            raise CommandError("--replay-from must be an event id (1 or more).")
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            raise CommandError(f"There is no webhook endpoint with id {endpoint_id}.")
        webhook_endpoint_replay(endpoint=endpoint, from_event_id=from_event_id)
        self.stdout.write(
            f"Endpoint {endpoint_id} will be sent every event from {from_event_id} on."
        )
