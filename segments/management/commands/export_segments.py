"""`manage.py export_segments --tenant T [--output FILE] [--segment ID ...]`.

Writes the tenant's segments with their customer and item assignments, in the API's own
JSON shapes (see `segments.services.transfer`), to stdout or FILE; `import_segments`
reads it back.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.management.progress import add_progress_argument, progress_bar
from segments.models import CustomerAssignment, ItemAssignment, Segment
from segments.services.transfer import export_json_chunks
from segmentservice.exceptions import ServiceError
from tenants.selectors import tenant_get


class Command(BaseCommand):
    help = "Export a tenant's segments and their assignments as JSON (the API's shapes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument(
            "--output", "-o", default="-", help="File to write; '-' (default) is stdout."
        )
        parser.add_argument(
            "--segment",
            action="append",
            default=[],
            dest="segments",
            metavar="ID",
            help="Export only this segment (repeatable).",
        )
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_get(name=options["tenant"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        segments = Segment.objects.filter(tenant=tenant)
        if options["segments"]:
            segments = segments.filter(external_id__in=options["segments"])
            found = set(segments.values_list("external_id", flat=True))
            missing = sorted(set(options["segments"]) - found)
            if missing:
                raise CommandError(
                    f"No segment with id {', '.join(missing)} in tenant {tenant.name}."
                )
        total = segments.count()
        target = options["output"]
        try:
            with _opened(target) as stream:
                write = stream.write if stream else lambda text: self.stdout.write(text, ending="")
                with progress_bar(self, options, total=total, unit="segments") as bar:
                    for chunk in export_json_chunks(
                        tenant=tenant, queryset=segments, progress=bar.update
                    ):
                        write(chunk)
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror}.") from exc
        customers = CustomerAssignment.objects.filter(tenant=tenant, segment__in=segments).count()
        items = ItemAssignment.objects.filter(tenant=tenant, segment__in=segments).count()
        where = "stdout" if target == "-" else target
        # The outcome goes to stderr when the document itself goes to stdout.
        report = self.stderr if target == "-" else self.stdout
        report.write(
            f"Exported {total} segment(s) of tenant {tenant.name} with {customers} customer "
            f"and {items} item assignment(s) to {where}."
        )


def _opened(target: str):
    """The file to write, or a context holding None for stdout."""
    return nullcontext(None) if target == "-" else Path(target).open("w", encoding="utf-8")
