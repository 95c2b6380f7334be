"""`manage.py evaluate_rules --tenant T [--segment ID]`: evaluate rules in full again.

Each rule in its own transaction, in dependency order (a rule after the rules of the
segments it reads), its changes recorded as events whose actor is the rule.
"""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser

from segments.exceptions import SegmentNotFound
from segments.management.progress import add_progress_argument, progress_bar
from segments.models import SegmentRule
from segments.services.rules import rules_evaluate_all
from segmentservice.actor import ActorCommand
from tenants.models import Tenant


class Command(ActorCommand):
    help = "Evaluate the tenant's enabled rules (or one segment's) in full."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's name.")
        parser.add_argument("--segment", help="Only this segment's rule.")
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        tenant = Tenant.objects.filter(name=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant named {options['tenant']}.")
        total = (
            1
            if options["segment"]
            else SegmentRule.objects.filter(tenant=tenant, enabled=True).count()
        )
        with progress_bar(self, options, total=total, unit="rules") as bar:
            try:
                outcome = rules_evaluate_all(
                    tenant=tenant,
                    segment_id=options["segment"],
                    progress=lambda rule, evaluation: bar.update(1),
                )
            except SegmentNotFound as error:
                raise CommandError(error.message) from error
        self.stdout.write(
            f"Evaluated {total} rule(s): {outcome.added} assignment(s) added, "
            f"{outcome.removed} removed."
        )
