"""`manage.py delete_tenant NAME [--yes] [--chunk-size N]`: a tenant and all its data.

Shows how many rows of each kind go and asks before deleting (unless `--yes`); then
deletes them in chunks, children first, with a progress bar on stderr, and prints one
outcome line. No change events are recorded: the tenant's events and webhook endpoints
go with it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.management.progress import add_progress_argument, progress_bar
from segmentservice.exceptions import ServiceError
from tenants.selectors import row_counts_text, tenant_get, tenant_row_counts
from tenants.services import TENANT_DELETE_CHUNK, tenant_delete


class Command(BaseCommand):
    help = (
        "Delete a tenant with all its segments, assignments, referenced records, events, "
        "webhook endpoints, API clients and staff grants. Asks first unless --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The tenant to delete.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=TENANT_DELETE_CHUNK,
            help=f"Rows per DELETE statement (default {TENANT_DELETE_CHUNK}).",
        )
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_get(name=options["name"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        counts = tenant_row_counts(tenants=[tenant])
        total = sum(counts.values())
        if not options["yes"]:
            self.stderr.write(f"Tenant {tenant.name} holds {row_counts_text(counts)}.")
            try:
                answer = input(f"Delete tenant {tenant.name} and all of it? Type yes: ")
            except EOFError:
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError(f"Nothing deleted: tenant {tenant.name} is kept.")
        try:
            with progress_bar(self, options, total=total, unit="rows") as bar:
                deletion = tenant_delete(
                    tenant=tenant, chunk_size=options["chunk_size"], progress=bar.update
                )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Deleted tenant {deletion.tenant} in {deletion.seconds:.1f} s: {deletion.summary}."
        )
