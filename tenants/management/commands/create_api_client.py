"""`manage.py create_api_client --tenant T --scopes "S1 S2" [--name N]`."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentservice.exceptions import ServiceError
from tenants.selectors import tenant_get
from tenants.services import api_client_create


class Command(BaseCommand):
    help = (
        "Create an API client for a tenant; prints client_id and client_secret (shown only here)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument(
            "--scopes", required=True, help='Space-separated, e.g. "customersegment.segment_read".'
        )
        parser.add_argument("--name", default="")

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_get(name=options["tenant"])
            issued = api_client_create(
                tenant=tenant, scopes=options["scopes"], name=options["name"]
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"client_id: {issued.client.client_id}")
        self.stdout.write(f"client_secret: {issued.client_secret}")
