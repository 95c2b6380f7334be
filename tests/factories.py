"""Small factory helpers: each test makes its own data through these."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from segments.choices import AssignmentType, GroupUserType, ItemType, SegmentStatus
from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    CustomerLegalEntity,
    Group,
    GroupAssignment,
    GroupMember,
    ItemAssignment,
    LegalEntity,
    Product,
    ProductCategory,
    Segment,
    Versioned,
)
from segmentservice.formats import format_instant
from tenants.models import Tenant

_counter = itertools.count(1)


def make_segment(
    tenant: Tenant,
    external_id: str | None = None,
    *,
    name: dict[str, str] | None = None,
    status: str = SegmentStatus.ACTIVE,
    site_code: str = "main",
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    **fields: Any,
) -> Segment:
    """A segment, active by default."""
    n = next(_counter)
    return Segment.objects.create(
        tenant=tenant,
        external_id=external_id or f"seg{n:04d}",
        name=name or {"en": f"Segment {n}"},
        status=status,
        site_code=site_code,
        valid_from=valid_from,
        valid_to=valid_to,
        **fields,
    )


def make_legal_entity(tenant: Tenant, external_id: str | None = None, **fields: Any) -> LegalEntity:
    """A legal entity."""
    n = next(_counter)
    return LegalEntity.objects.create(
        tenant=tenant,
        external_id=external_id or f"le{n:04d}",
        name=fields.pop("name", f"Company {n}"),
        **fields,
    )


def make_customer(
    tenant: Tenant,
    external_id: str | None = None,
    *,
    legal_entities: list[LegalEntity] = (),
    **fields: Any,
) -> Customer:
    """A customer, optionally a member of legal entities."""
    n = next(_counter)
    customer = Customer.objects.create(
        tenant=tenant,
        external_id=external_id or f"c{n:04d}",
        first_name=fields.pop("first_name", "Ada"),
        last_name=fields.pop("last_name", f"Lovelace{n}"),
        email=fields.pop("email", f"ada{n}@example.com"),
        **fields,
    )
    for legal_entity in legal_entities:
        CustomerLegalEntity.objects.create(
            tenant=tenant, customer=customer, legal_entity=legal_entity
        )
    return customer


def make_category(
    tenant: Tenant, external_id: str | None = None, *, parent: Category | None = None, **fields: Any
) -> Category:
    """A category, optionally under `parent`."""
    n = next(_counter)
    return Category.objects.create(
        tenant=tenant,
        external_id=external_id or f"cat{n:04d}",
        code=fields.pop("code", f"C{n}"),
        name=fields.pop("name", {"en": f"Category {n}"}),
        parent=parent,
        **fields,
    )


def make_product(
    tenant: Tenant,
    external_id: str | None = None,
    *,
    categories: list[Category] = (),
    **fields: Any,
) -> Product:
    """A product, optionally in categories."""
    n = next(_counter)
    product = Product.objects.create(
        tenant=tenant,
        external_id=external_id or f"p{n:04d}",
        code=fields.pop("code", f"P{n}"),
        name=fields.pop("name", {"en": f"Product {n}"}),
        **fields,
    )
    for category in categories:
        ProductCategory.objects.create(tenant=tenant, product=product, category=category)
    return product


def assign_customer(
    segment: Segment, customer: Customer, legal_entity: LegalEntity | None = None, **fields: Any
) -> CustomerAssignment:
    """Put a customer (B2C, or B2B with a legal entity) into a segment."""
    return CustomerAssignment.objects.create(
        tenant_id=segment.tenant_id,
        segment=segment,
        customer=customer,
        legal_entity=legal_entity,
        assignment_type=fields.pop("assignment_type", AssignmentType.MANUAL),
        **fields,
    )


def make_group(
    tenant: Tenant,
    external_id: str | None = None,
    *,
    members: list[Customer] | None = None,
    legal_entity: LegalEntity | None = None,
    user_type: str = GroupUserType.CUSTOMER,
    **fields: Any,
) -> Group:
    """A directory group, with its members."""
    group = Group.objects.create(
        tenant=tenant,
        external_id=external_id or f"group{next(_counter)}",
        legal_entity=legal_entity,
        user_type=user_type,
        **fields,
    )
    for customer in members or []:
        GroupMember.objects.create(tenant=tenant, group=group, customer=customer)
    return group


def assign_group(segment: Segment, group: Group, **fields: Any) -> GroupAssignment:
    """Assign a directory group to a segment."""
    return GroupAssignment.objects.create(
        tenant_id=segment.tenant_id, segment=segment, group=group, **fields
    )


def assign_product(segment: Segment, product: Product, **fields: Any) -> ItemAssignment:
    """Assign a product to a segment."""
    return ItemAssignment.objects.create(
        tenant_id=segment.tenant_id,
        segment=segment,
        type=ItemType.PRODUCT,
        product=product,
        **fields,
    )


def assign_category(segment: Segment, category: Category, **fields: Any) -> ItemAssignment:
    """Assign a category to a segment."""
    return ItemAssignment.objects.create(
        tenant_id=segment.tenant_id,
        segment=segment,
        type=ItemType.CATEGORY,
        category=category,
        **fields,
    )


def stored_metadata(row: Versioned) -> dict[str, Any]:
    """The `metadata` the API should show for a row, read back from the database."""
    row.refresh_from_db()
    return {
        "createdAt": format_instant(row.created_at),
        "modifiedAt": format_instant(row.modified_at),
        "version": row.version,
    }
