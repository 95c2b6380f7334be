"""Deleting referenced records: customers, legal entities, groups, products and categories.

Their assignments go with them (the database cascades), so each assignment that goes
records its `...-assignment-deleted` event first, in the same transaction, as when it
is removed through the API (SPEC §10). A legal entity takes the groups bound to it, and
so their group assignments, along. The admin deletes records through this.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model, QuerySet

from segments.models import (
    Category,
    Customer,
    CustomerAssignment,
    Group,
    GroupAssignment,
    GroupMember,
    ItemAssignment,
    LegalEntity,
    Product,
)
from segments.services.changes import changes_note
from segments.services.customer_assignments import customer_assignment_deleted_event
from segments.services.events import events_record
from segments.services.group_assignments import group_assignment_deleted_event
from segments.services.item_assignments import item_assignment_deleted_event
from segments.services.rules import customers_of_legal_entities, rules_customers_changed
from tenants.models import Tenant

# Which assignments each kind of record takes with it, by the path from the assignment.
CASCADES: dict[type[Model], tuple[tuple[type[Model], str], ...]] = {
    Customer: ((CustomerAssignment, "customer"),),
    LegalEntity: ((CustomerAssignment, "legal_entity"), (GroupAssignment, "group__legal_entity")),
    Group: ((GroupAssignment, "group"),),
    Product: ((ItemAssignment, "product"),),
    Category: ((ItemAssignment, "category"),),
}
# How each kind of assignment is loaded for its deleted event, and the event.
EVENTS = {
    CustomerAssignment: (
        ("segment", "customer", "legal_entity"),
        customer_assignment_deleted_event,
    ),
    ItemAssignment: (("segment", "product", "category"), item_assignment_deleted_event),
    GroupAssignment: (("segment", "group"), group_assignment_deleted_event),
}


@transaction.atomic
def records_delete(*, tenant: Tenant, rows: QuerySet) -> int:
    """Delete the tenant's `rows` of one record model with their assignments; returns how many.

    Example: `records_delete(tenant=acme, rows=Customer.objects.filter(external_id="c1"))`.
    """
    ids = list(rows.filter(tenant=tenant).values_list("pk", flat=True))
    if not ids:
        return 0
    changes_note(tenant=tenant)
    # The customers of a deleted legal entity, and the members of a deleted group (or of a
    # group bound to a deleted legal entity, which goes with it), may no longer match a rule.
    moved: list[int] = []
    if rows.model is LegalEntity:
        moved = customers_of_legal_entities(tenant=tenant, legal_entity_pks=ids)
        moved += GroupMember.objects.filter(tenant=tenant, group__legal_entity__in=ids).values_list(
            "customer_id", flat=True
        )
    elif rows.model is Group:
        moved = list(
            GroupMember.objects.filter(tenant=tenant, group__in=ids).values_list(
                "customer_id", flat=True
            )
        )
    for assignment_model, field in CASCADES[rows.model]:
        assignments = assignment_model.objects.filter(tenant=tenant, **{f"{field}__in": ids})
        related, to_event = EVENTS[assignment_model]
        events = [to_event(row) for row in assignments.select_related(*related).order_by("pk")]
        events_record(tenant=tenant, events=events)
        assignments.delete()
    rows.model.objects.filter(tenant=tenant, pk__in=ids).delete()
    rules_customers_changed(tenant=tenant, customer_pks=moved)
    return len(ids)
