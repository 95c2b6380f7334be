"""`manage.py deliver_events [--once] [--interval SECONDS]`: send change events to webhooks."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from segments.services.webhooks import webhooks_deliver


class Command(BaseCommand):
    help = "Deliver recorded change events to the configured webhook endpoints, in order, with retries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One run, then exit.")
        parser.add_argument("--interval", type=float, default=2.0, help="Seconds between runs.")
        parser.add_argument("--batch-size", type=int, default=100)

    def handle(self, *args, **options) -> None:
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
