"""`manage.py prune_events --older-than DAYS`: delete delivered change events.

Keeps every event an active webhook endpoint has still to be sent (or asked to replay), so
it is safe to run from cron while `deliver_events` runs.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.management.progress import add_progress_argument, progress_bar
from segments.services.webhooks import events_prune


class Command(BaseCommand):
    help = "Delete change events older than --older-than days that every active endpoint has been sent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than", type=int, required=True, metavar="DAYS", help="Age in days."
        )
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Events deleted per transaction."
        )
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        if options["older_than"] < 0:
            raise CommandError("--older-than must be 0 or more days.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        with progress_bar(self, options, total=None, unit="events") as bar:
            deleted = events_prune(
                older_than=timedelta(days=options["older_than"]),
                batch_size=options["batch_size"],
                progress=bar.update,
            )
        self.stdout.write(f"Deleted {deleted} events older than {options['older_than']} days.")
