"""`manage.py issue_token --tenant T --scopes "S1 S2" [--customer ID] [--legal-entity ID] [--ttl SECONDS]`.

Prints the token alone on stdout, so scripts can capture it: `TOKEN=$(manage.py issue_token ...)`.
Modelled on DRF's `drf_create_token`.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentservice.exceptions import ServiceError
from tenants.selectors import tenant_get
from tenants.services import scopes_parse
from tenants.tokens import token_issue


class Command(BaseCommand):
    help = "Issue a signed bearer token for a tenant and print it alone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--scopes", required=True)
        parser.add_argument("--customer", default=None, help="Customer id: makes a customer token.")
        parser.add_argument(
            "--legal-entity", default=None, help="Legal entity the customer acts for."
        )
        parser.add_argument(
            "--ttl",
            type=int,
            default=settings.TOKEN_DEFAULT_TTL_SECONDS,
            help="Lifetime in seconds.",
        )

    def handle(self, *args, **options) -> None:
        if options["legal_entity"] and not options["customer"]:
            raise CommandError("--legal-entity needs --customer.")
        try:
            tenant = tenant_get(name=options["tenant"])
            scopes = scopes_parse(text=options["scopes"])
            token, _ = token_issue(
                tenant=tenant.name,
                scopes=scopes,
                ttl_seconds=options["ttl"],
                subject=f"cli:{options['customer'] or tenant.name}",
                customer_id=options["customer"],
                legal_entity_id=options["legal_entity"],
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)
