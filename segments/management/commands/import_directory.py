"""`manage.py import_directory --tenant T FILE`: upsert customers, legal entities, groups,
categories, products.

FILE is a JSON document of the shape in SPEC §8 (`{"legalEntities": [...], "customers": [...],
"groups": [...], "categories": [...], "products": [...]}`), JSON Lines (`.jsonl`: one record
a line, with `"type": "product"` etc.) or CSV (`.csv`: a `type` column, dotted columns such as `name.en`,
lists separated by `|`). A progress bar goes to stderr, as does one line per skipped record;
the outcome line goes to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from segments.services.directory import (
    DEFAULT_BATCH_SIZE,
    KINDS,
    DirectoryFileError,
    directory_import,
    directory_read,
)
from segmentservice.exceptions import ServiceError
from tenants.selectors import tenant_get

NOUNS = {
    "legalEntities": ("legal entity", "legal entities"),
    "customers": ("customer", "customers"),
    "groups": ("group", "groups"),
    "categories": ("category", "categories"),
    "products": ("product", "products"),
}


class Command(BaseCommand):
    help = (
        "Upsert a tenant's legal entities, customers, groups, categories and products from a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .json document, .jsonl (JSON Lines) or .csv file.")
        parser.add_argument("--tenant", required=True)
        parser.add_argument(
            "--format",
            choices=["json", "jsonl", "csv"],
            default=None,
            help="The file's format; by default from its extension (.json when unknown).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Records per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            tenant = tenant_get(name=options["tenant"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        try:
            records = directory_read(Path(options["file"]), file_format=options["format"])
        except DirectoryFileError as exc:
            raise CommandError(str(exc)) from exc
        stderr = getattr(self.stderr, "_out", sys.stderr)
        with tqdm(
            total=len(records),
            unit="record",
            file=stderr,
            disable=options["no_progress"],
            desc="Importing",
        ) as bar:
            report = directory_import(
                tenant=tenant,
                records=records,
                batch_size=options["batch_size"],
                progress=bar.update,
            )
        for position, message in report.skipped:
            self.stderr.write(f"Skipped {position}: {message}")
        for key, count in sorted(report.ignored_keys.items()):
            self.stderr.write(f"Ignored the unknown key {key} in {count} record(s).")
        # Groups (SPEC §11) are named only when there were some, so the line other files
        # give stays as it was.
        written = ", ".join(
            f"{report.written[kind]} {NOUNS[kind][report.written[kind] != 1]}"
            for kind in KINDS
            if kind != "groups" or report.written[kind]
        )
        skipped = len(report.skipped)
        self.stdout.write(
            f"Imported into {tenant.name}: {written}; "
            f"{skipped} record{'s' if skipped != 1 else ''} skipped."
        )
