"""`manage.py seed_demo`: a demo tenant with realistic data, and a ready token.

Idempotent: when the demo tenant already has segments it only prints a fresh token.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from segments.choices import AssignmentType, ItemType, SegmentStatus
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    ItemAssignment,
    LegalEntity,
    Product,
    ProductCategory,
    Segment,
)
from tenants.models import Tenant
from tenants.services import tenant_create
from tenants.tokens import token_issue

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Linus", "Radia"]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Torvalds",
    "Perlman",
]
TIERS = [
    ("Gold", "Gold"),
    ("Silver", "Silber"),
    ("Bronze", "Bronze"),
    ("Platinum", "Platin"),
    ("Trade", "Handel"),
]
TOP = [
    ("Tools", "Werkzeuge"),
    ("Garden", "Garten"),
    ("Kitchen", "Küche"),
    ("Office", "Büro"),
    ("Outdoor", "Draußen"),
]


class Command(BaseCommand):
    help = "Create the demo tenant with segments, customers, products, categories and assignments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--segments", type=int, default=300)
        parser.add_argument("--customers", type=int, default=3000)
        parser.add_argument("--products", type=int, default=3000)

    def handle(self, *args, **options) -> None:
        name = options["tenant"]
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
        token, _ = token_issue(
            tenant=name,
            scopes=["customersegment.segment_manage", "customersegment.segment_read"],
            ttl_seconds=24 * 3600,
        )
        self.stdout.write(f"Token (manage + read, 24 h): {token}")

    @transaction.atomic
    def _seed(self, tenant: Tenant, options: dict) -> dict[str, int]:
        rng = random.Random(42)
        now = timezone.now()
        legal_entities = LegalEntity.objects.bulk_create(
            LegalEntity(
                tenant=tenant,
                external_id=f"le{i:04d}",
                name=f"{LAST[i % 10]} {['GmbH', 'Ltd', 'Inc', 'AG'][i % 4]} {i}",
            )
            for i in range(60)
        )
        customers = Customer.objects.bulk_create(
            Customer(
                tenant=tenant,
                external_id=f"c{i:06d}",
                first_name=FIRST[i % 10],
                last_name=LAST[(i // 10) % 10],
                email=f"{FIRST[i % 10].lower()}.{LAST[(i // 10) % 10].lower()}{i}@example.com",
                attributes={"tier": rng.choice(["new", "regular", "vip"])},
            )
            for i in range(options["customers"])
        )
        memberships = [
            CustomerLegalEntity(tenant=tenant, customer=c, legal_entity=rng.choice(legal_entities))
            for c in customers[: len(customers) // 3]
        ]
        CustomerLegalEntity.objects.bulk_create(memberships)
        categories = self._categories(tenant)
        leaves = [c for c in categories if not any(o.parent_id == c.id for o in categories)]
        products = Product.objects.bulk_create(
            Product(
                tenant=tenant,
                external_id=f"p{i:06d}",
                code=f"SKU-{i:06d}",
                name={"en": f"Product {i}", "de": f"Produkt {i}"},
            )
            for i in range(options["products"])
        )
        ProductCategory.objects.bulk_create(
            ProductCategory(tenant=tenant, product=p, category=rng.choice(leaves)) for p in products
        )
        segments = []
        for i in range(options["segments"]):
            en, de = TIERS[i % len(TIERS)]
            starts = now - timedelta(days=rng.randint(0, 400))
            segments.append(
                Segment(
                    tenant=tenant,
                    external_id=f"seg{i:04d}",
                    name={"en": f"{en} customers {i}", "de": f"{de}-Kunden {i}"},
                    description={"en": f"{en} tier, cohort {i}"},
                    status=SegmentStatus.ACTIVE if i % 4 else SegmentStatus.INACTIVE,
                    site_code="main" if i % 5 else "b2b",
                    valid_from=starts if i % 3 == 0 else None,
                    valid_to=starts + timedelta(days=rng.randint(30, 800)) if i % 3 == 0 else None,
                    mixins={
                        "segmentAttributes": {"membershipStatus": en.upper(), "priority": i % 10}
                    },
                    created_at=now,
                    modified_at=now,
                )
            )
        Segment.objects.bulk_create(segments)
        assignments = {}
        for customer in customers:
            for segment in rng.sample(segments, 3):
                assignments[(segment.id, customer.id)] = CustomerAssignment(
                    tenant=tenant,
                    segment=segment,
                    customer=customer,
                    assignment_type=AssignmentType.MANUAL,
                )
        for membership in memberships:
            segment = rng.choice(segments)
            assignments[(segment.id, membership.customer.id, membership.legal_entity.id)] = (
                CustomerAssignment(
                    tenant=tenant,
                    segment=segment,
                    customer=membership.customer,
                    legal_entity=membership.legal_entity,
                )
            )
        CustomerAssignment.objects.bulk_create(assignments.values())
        items = {}
        for segment in segments:
            for product in rng.sample(products, 4):
                items[(segment.id, "p", product.id)] = ItemAssignment(
                    tenant=tenant, segment=segment, type=ItemType.PRODUCT, product=product
                )
            category = rng.choice(categories)
            items[(segment.id, "c", category.id)] = ItemAssignment(
                tenant=tenant, segment=segment, type=ItemType.CATEGORY, category=category
            )
        ItemAssignment.objects.bulk_create(items.values())
        return {
            "segments": len(segments),
            "customers": len(customers),
            "legal entities": len(legal_entities),
            "categories": len(categories),
            "products": len(products),
            "customer assignments": len(assignments),
            "item assignments": len(items),
        }

    def _categories(self, tenant: Tenant) -> list[Category]:
        created: list[Category] = []
        for t, (en, de) in enumerate(TOP):
            top = Category.objects.create(
                tenant=tenant,
                external_id=f"cat{t}",
                code=en.upper(),
                name={"en": en, "de": de},
                slug={"en": en.lower()},
                position=t,
            )
            created.append(top)
            for s in range(4):
                sub = Category.objects.create(
                    tenant=tenant,
                    external_id=f"cat{t}-{s}",
                    code=f"{en.upper()}-{s}",
                    name={"en": f"{en} {s}", "de": f"{de} {s}"},
                    parent=top,
                    position=s,
                )
                created.append(sub)
                for leaf in range(3):
                    created.append(
                        Category.objects.create(
                            tenant=tenant,
                            external_id=f"cat{t}-{s}-{leaf}",
                            code=f"{en.upper()}-{s}-{leaf}",
                            name={"en": f"{en} {s}.{leaf}", "de": f"{de} {s}.{leaf}"},
                            parent=sub,
                            position=leaf,
                        )
                    )
        return created
