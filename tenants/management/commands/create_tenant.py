"""`manage.py create_tenant NAME [--default-language en] [--languages en,de]`."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentservice.exceptions import ServiceError
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with its default and allowed languages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Tenant name: ^[a-z][a-z0-9]+$, 3-16 characters.")
        parser.add_argument("--default-language", default="en")
        parser.add_argument(
            "--languages", default="", help="Comma-separated allowed languages, e.g. en,de."
        )

    def handle(self, *args, **options) -> None:
        languages = [lang.strip() for lang in options["languages"].split(",") if lang.strip()]
        try:
            tenant = tenant_create(
                name=options["name"],
                default_language=options["default_language"],
                languages=languages or None,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Created tenant {tenant.name} (default language {tenant.default_language}, "
            f"languages {','.join(tenant.languages)})."
        )
