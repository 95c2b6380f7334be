"""`manage.py create_api_client --tenant T --scopes "S1 S2" [--name N] [--format text|env|json]`.

`--format env` prints shell assignments, so a script takes the credentials in one line:

    eval "$(python manage.py create_api_client --tenant shop --scopes S --format env)"
    # CLIENT_ID and CLIENT_SECRET are now set
"""

import json
import shlex

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
        parser.add_argument(
            "--format",
            choices=["text", "env", "json"],
            default="text",
            help="text: 'client_id: ...' lines; env: CLIENT_ID=... CLIENT_SECRET=... for eval; "
            'json: {"client_id": ..., "client_secret": ...}.',
        )

    def handle(self, *args, **options) -> None:
        try:
            tenant = tenant_get(name=options["tenant"])
            issued = api_client_create(
                tenant=tenant, scopes=options["scopes"], name=options["name"]
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        client_id, secret = issued.client.client_id, issued.client_secret
        if options["format"] == "env":
            self.stdout.write(f"CLIENT_ID={shlex.quote(client_id)}")
            self.stdout.write(f"CLIENT_SECRET={shlex.quote(secret)}")
        elif options["format"] == "json":
            self.stdout.write(json.dumps({"client_id": client_id, "client_secret": secret}))
        else:
            self.stdout.write(f"client_id: {client_id}")
            self.stdout.write(f"client_secret: {secret}")
