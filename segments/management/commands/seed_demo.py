"""`manage.py seed_demo`: a demo tenant with realistic data; prints a ready token and the URLs.

Customers, legal entities, groups, categories and products go through `directory_import`
(the service behind `import_directory`); segments, item and group assignments through the
API's bulk services, so they carry versions, timestamps and change events like any others. Only the
ten thousand customer assignments are bulk-inserted (see `_customer_assignments`).
About three seconds on SQLite with the defaults.

Idempotent: when the demo tenant already has segments it only prints a fresh token.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from segments.choices import AssignmentType, ItemType, SegmentStatus
from segments.devdata.demo import (
    AUDIENCES,
    COMPANY_SUFFIX,
    FIRST,
    GROUPS,
    LAST,
    REGIONS,
    TIERS,
    TOP,
)
from segments.management.progress import add_progress_argument, progress_bar
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    Product,
    Segment,
)
from segments.services.assignments import WriteFields
from segments.services.directory import DirectoryRecord, directory_import
from segments.services.group_assignments import (
    GroupAssignmentInput,
    group_assignments_bulk_upsert,
)
from segments.services.item_assignments import ItemAssignmentInput, item_assignments_bulk_upsert
from segments.services.segments import SegmentFields, SegmentWrite, segments_bulk_create
from segmentservice.actor import ActorCommand
from segmentservice.exceptions import ServiceError
from tenants.models import Tenant
from tenants.services import tenant_create
from tenants.tokens import token_issue

LEGAL_ENTITIES = 60
SCOPES = ["customersegment.segment_manage", "customersegment.segment_read"]


class Command(ActorCommand):
    help = "Create the demo tenant with segments, customers, products, categories and assignments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--segments", type=int, default=300)
        parser.add_argument("--customers", type=int, default=3000)
        parser.add_argument("--products", type=int, default=3000)
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="Where the printed URLs point."
        )
        add_progress_argument(parser)

    def handle(self, *args, **options) -> None:
        for option in ("segments", "customers", "products"):
            if options[option] < 1:
                raise CommandError(f"--{option} must be at least 1.")
        name = options["tenant"]
        try:
            tenant = Tenant.objects.filter(name=name).first()
            if tenant and Segment.objects.filter(tenant=tenant).exists():
                self.stdout.write(f"Tenant {name} already has demo data.")
            else:
                tenant = tenant or tenant_create(
                    name=name, default_language="en", languages=["en", "de"]
                )
                counts = self._seed(tenant, options)
                self.stdout.write(
                    f"Seeded tenant {name}: "
                    + ", ".join(f"{n} {what}" for what, n in counts.items())
                    + "."
                )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        token, _ = token_issue(tenant=name, scopes=SCOPES, ttl_seconds=24 * 3600)
        base = options["base_url"].rstrip("/")
        self.stdout.write(
            f"  Admin:      {base}/admin/segments/segment/?tenant={name}\n"
            f"  API:        {base}/customer-segment/{name}/segments\n"
            f"  Swagger UI: {base}/api/docs/"
        )
        self.stdout.write(f"Token (manage + read, 24 h): {token}")

    @transaction.atomic
    def _seed(self, tenant: Tenant, options: dict) -> dict[str, int]:
        rng = random.Random(42)
        self._directory(tenant, rng, options)
        customers = list(Customer.objects.filter(tenant=tenant).order_by("external_id"))
        memberships = [
            (m.customer, m.legal_entity)
            for m in CustomerLegalEntity.objects.filter(tenant=tenant)
            .select_related("customer", "legal_entity")
            .order_by("customer__external_id")
        ]
        products = list(Product.objects.filter(tenant=tenant).order_by("external_id"))
        categories = list(Category.objects.filter(tenant=tenant).order_by("external_id"))
        segment_ids = self._segments(tenant, rng, options["segments"])

        customer_count = self._customer_assignments(
            tenant, rng, segment_ids, customers, memberships
        )
        item_count = 0
        with progress_bar(self, options, total=len(segment_ids), unit="segments") as bar:
            for segment_id in segment_ids:
                picked = rng.sample(products, min(4, len(products)))
                item_count += _created(
                    item_assignments_bulk_upsert(
                        tenant=tenant,
                        segment_id=segment_id,
                        type=ItemType.PRODUCT,
                        elements=[(i, _item_input(p.external_id)) for i, p in enumerate(picked, 1)],
                    )
                )
                item_count += _created(
                    item_assignments_bulk_upsert(
                        tenant=tenant,
                        segment_id=segment_id,
                        type=ItemType.CATEGORY,
                        elements=[(1, _item_input(rng.choice(categories).external_id))],
                    )
                )
                bar.update(1)
        group_count = self._group_assignments(tenant, segment_ids)
        return {
            "segments": len(segment_ids),
            "customers": len(customers),
            "legal entities": LEGAL_ENTITIES,
            "categories": len(categories),
            "products": len(products),
            "customer assignments": customer_count,
            "item assignments": item_count,
            "groups": len(GROUPS),
            "group assignments": group_count,
        }

    def _group_assignments(self, tenant: Tenant, segment_ids: list[str]) -> int:
        """The VIP club in the first segment, the company buyers in the last (the same one
        when there is only one)."""
        count = 0
        for group_id, segment_id in (
            ("vip-club", segment_ids[0]),
            ("company-buyers", segment_ids[-1]),
        ):
            count += _created(
                group_assignments_bulk_upsert(
                    tenant=tenant,
                    segment_id=segment_id,
                    elements=[(1, GroupAssignmentInput(group_id=group_id, fields=WriteFields()))],
                )
            )
        return count

    def _customer_assignments(self, tenant, rng, segment_ids, customers, memberships) -> int:
        """Each customer in three segments (B2C); a third also in one segment for their company.

        These ten thousand rows are inserted directly, as the service would write them
        (MANUAL, version 1, now): through the per-segment service they took half of the
        seeding time. Being an initial load, not a change, they record no events.
        """
        segments = dict(Segment.objects.filter(tenant=tenant).values_list("external_id", "pk"))
        now = timezone.now()
        rows: dict[tuple[int, int, int | None], CustomerAssignment] = {}
        picks = [(c, None) for c in customers for _ in range(3)] + list(memberships)
        for customer, legal_entity in picks:
            segment_pk = segments[rng.choice(segment_ids)]
            key = (segment_pk, customer.pk, legal_entity.pk if legal_entity else None)
            rows[key] = CustomerAssignment(
                tenant=tenant,
                segment_id=segment_pk,
                customer=customer,
                legal_entity=legal_entity,
                assignment_type=AssignmentType.MANUAL,
                created_at=now,
                modified_at=now,
            )
        CustomerAssignment.objects.bulk_create(rows.values(), batch_size=2000)
        return len(rows)

    def _directory(self, tenant: Tenant, rng: random.Random, options: dict) -> None:
        """Legal entities, customers, the category tree and products, through `directory_import`."""
        records: list[DirectoryRecord] = []

        def add(kind: str, data: dict) -> None:
            index = len(records)
            records.append(
                DirectoryRecord(kind=kind, position=f"{kind}[{index}]", data=data, index=index)
            )

        for i in range(LEGAL_ENTITIES):
            name = f"{LAST[i % 10]} {rng.choice(REGIONS)} {COMPANY_SUFFIX[i % 4]}"
            add("legalEntities", {"id": f"le{i:04d}", "name": name})
        count = options["customers"]
        customer_companies: dict[str, str] = {}  # customer id → its legal entity
        for i in range(count):
            first, last = FIRST[i % 10], LAST[(i // 10) % 10]
            customer = {
                "id": f"c{i:06d}",
                "firstName": first,
                "lastName": last,
                "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                "attributes": {"tier": rng.choice(["new", "regular", "vip"])},
            }
            if i < count // 3:  # a third of the customers also buy for a company
                customer["legalEntities"] = [f"le{rng.randrange(LEGAL_ENTITIES):04d}"]
                customer_companies[customer["id"]] = customer["legalEntities"][0]
            add("customers", customer)
        company = next(iter(customer_companies.values()), "le0000")
        for group_id, en, de, user_type in GROUPS:
            members = {
                "vip-club": [f"c{i:06d}" for i in range(0, count, 10)],
                "company-buyers": [c for c, le in customer_companies.items() if le == company],
            }.get(group_id, [])
            add(
                "groups",
                {
                    "id": group_id,
                    "name": {"en": en, "de": de},
                    "userType": user_type,
                    "legalEntityId": company if group_id == "company-buyers" else None,
                    "members": members,
                },
            )
        leaves = []
        for t, (en, de) in enumerate(TOP):
            add(
                "categories",
                {
                    "id": f"cat{t}",
                    "code": en.upper(),
                    "name": {"en": en, "de": de},
                    "slug": {"en": en.lower(), "de": de.lower()},
                    "position": t,
                },
            )
            for s in range(4):
                add(
                    "categories",
                    {
                        "id": f"cat{t}-{s}",
                        "code": f"{en.upper()}-{s}",
                        "name": {"en": f"{en} {s}", "de": f"{de} {s}"},
                        "parentId": f"cat{t}",
                        "position": s,
                    },
                )
                for leaf in range(3):
                    leaves.append(f"cat{t}-{s}-{leaf}")
                    add(
                        "categories",
                        {
                            "id": leaves[-1],
                            "code": f"{en.upper()}-{s}-{leaf}",
                            "name": {"en": f"{en} {s}.{leaf}", "de": f"{de} {s}.{leaf}"},
                            "parentId": f"cat{t}-{s}",
                            "position": leaf,
                        },
                    )
        for i in range(options["products"]):
            en, de = TOP[i % len(TOP)]
            add(
                "products",
                {
                    "id": f"p{i:06d}",
                    "code": f"SKU-{i:06d}",
                    "name": {"en": f"{en} product {i}", "de": f"{de}-Produkt {i}"},
                    "categories": rng.sample(leaves, 2 if i % 7 == 0 else 1),
                },
            )
        with progress_bar(self, options, total=len(records), unit="records") as bar:
            report = directory_import(tenant=tenant, records=records, progress=bar.update)
        if report.skipped:
            where, why = report.skipped[0]
            raise CommandError(f"Seeding the directory failed at {where}: {why}")

    def _segments(self, tenant: Tenant, rng: random.Random, count: int) -> list[str]:
        now = timezone.now()
        writes = []
        for i in range(count):
            tier_en, tier_de = TIERS[i % len(TIERS)]
            audience_en, audience_de = AUDIENCES[(i // len(TIERS)) % len(AUDIENCES)]
            region = REGIONS[i % len(REGIONS)]
            timed = i % 3 == 0
            starts = now - timedelta(days=rng.randint(0, 400))
            writes.append(
                SegmentWrite(
                    index=i + 1,
                    segment_id=f"seg{i:04d}",
                    fields=SegmentFields(
                        name={
                            "en": f"{tier_en} {audience_en} {region} {i}",
                            "de": f"{tier_de}-{audience_de} {region} {i}",
                        },
                        description={"en": f"{tier_en} tier, {region}, cohort {i}"},
                        status=SegmentStatus.ACTIVE if i % 4 else SegmentStatus.INACTIVE,
                        site_code="main" if i % 5 else "b2b",
                        valid_from=starts if timed else None,
                        valid_to=starts + timedelta(days=rng.randint(30, 800)) if timed else None,
                        mixins={
                            "segmentAttributes": {
                                "membershipStatus": tier_en.upper(),
                                "priority": i % 10,
                            }
                        },
                    ),
                )
            )
        results = segments_bulk_create(tenant=tenant, writes=writes)
        failed = [r for r in results if r.code >= 300]
        if failed:
            raise CommandError(f"Could not create segment {failed[0].id}: {failed[0].message}")
        return [w.segment_id for w in writes]


def _item_input(item_id: str) -> ItemAssignmentInput:
    return ItemAssignmentInput(item_id=item_id, fields=WriteFields())


def _created(results) -> int:
    failed = [r for r in results if r.code >= 300]
    if failed:
        raise CommandError(f"Seeding an assignment failed: {failed[0].message}")
    return len(results)
