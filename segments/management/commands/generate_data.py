"""`manage.py generate_data`: fill a tenant with realistic synthetic data at any scale.

    python manage.py generate_data --tenant bench --segments 20000 --customers 100000 \\
        --customer-assignments 500000 --products 50000 --categories 6820 \\
        --item-assignments 500000
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from segments.devdata.generate import GenerateSizes, data_generate
from segmentservice.exceptions import ServiceError
from tenants.models import Tenant
from tenants.services import tenant_create


class _Bars:
    """`data_generate`'s progress as one tqdm bar per table, on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, tqdm] = {}

    def __call__(self, table: str, rows: int, total: int) -> None:
        bar = self.bars.get(table)
        if bar is None:
            self.close()
            bar = self.bars[table] = tqdm(
                total=total, desc=table, unit="row", unit_scale=True, leave=True
            )
        bar.update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = (
        "Generate segments, customers (B2C and B2B), a five-level category tree, products and "
        "assignments for a tenant (created when missing). Deterministic; COPY on PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = GenerateSizes()
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--segments", type=int, default=defaults.segments)
        parser.add_argument("--customers", type=int, default=defaults.customers)
        parser.add_argument(
            "--customer-assignments", type=int, default=defaults.customer_assignments
        )
        parser.add_argument("--products", type=int, default=defaults.products)
        parser.add_argument("--categories", type=int, default=defaults.categories)
        parser.add_argument("--item-assignments", type=int, default=defaults.item_assignments)
        parser.add_argument(
            "--replace", action="store_true", help="Delete the tenant's existing data first."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args, **options) -> None:
        sizes = GenerateSizes(
            segments=options["segments"],
            customers=options["customers"],
            customer_assignments=options["customer_assignments"],
            products=options["products"],
            categories=options["categories"],
            item_assignments=options["item_assignments"],
        )
        bars = None if options["no_progress"] else _Bars()
        try:
            tenant = Tenant.objects.filter(name=options["tenant"]).first() or tenant_create(
                name=options["tenant"], default_language="en", languages=["en", "de", "fr"]
            )
            report = data_generate(
                tenant=tenant,
                sizes=sizes,
                replace=options["replace"],
                progress=bars,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        finally:
            if bars is not None:
                bars.close()
        counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
        self.stdout.write(f"Generated for {tenant.name} in {report.seconds:.1f} s: {counts}.")
