"""`manage.py import_segments --tenant T FILE`.

Reads what `export_segments` writes (or a plain list of segments as `GET /segments`
returns them) and upserts every segment with its assignments through the API's services.
A bad record is reported with its position and skipped, never half-written; the command
then exits non-zero so scripts notice.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from segments.management.progress import add_progress_argument, progress_bar
from segments.services.transfer import import_records, segments_import
from segmentservice.actor import ActorCommand
from segmentservice.exceptions import ServiceError
from tenants.selectors import tenant_get


class Command(ActorCommand):
    help = "Import segments with their assignments from an export_segments JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("file", help="The JSON file; '-' reads stdin.")
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        name = options["file"]
        document = self._read(name)
        try:
            records = import_records(document)
        except ServiceError as exc:
            raise CommandError(f"{name}: {exc.message}") from exc
        try:
            tenant = tenant_get(name=options["tenant"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        with progress_bar(self, options, total=len(records), unit="segments") as bar:
            report = segments_import(tenant=tenant, records=records, progress=bar.update)
        for position, segment_id, message in report.skipped:
            self.stderr.write(f"Skipped record {position} (segment {segment_id}): {message}")
        self.stdout.write(
            f"Imported {report.segments} segment(s) into tenant {tenant.name} "
            f"({report.created} created, {report.updated} updated) with {report.customers} "
            f"customer and {report.items} item assignment(s); {len(report.skipped)} skipped."
        )
        if report.skipped:
            raise CommandError(f"{len(report.skipped)} record(s) of {name} were skipped.")

    def _read(self, name: str):
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"No such file: {name}.") from None
        except IsADirectoryError:
            raise CommandError(f"{name} is a directory, not a JSON file.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{name} is not UTF-8 text.") from None
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}.") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
