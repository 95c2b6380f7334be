"""Which segments a customer belongs to: the one rule (SPEC §5 `customerId`, SPEC §11).

A customer belongs to a segment

- directly: a customer assignment of theirs (MANUAL or made by a rule), narrowed by the
  legal entity they act for as `customer_context_q` says; or
- through a group: a group assignment of a directory group they are a member of, when
  the group is unbound or bound to the legal entity they act for (an unbound group always
  counts; a bound one never counts for a customer acting for no legal entity).

`membership_segment_ids` gives those segments' ids as one subquery (a `UNION` of the two
ways), so every read that filters by it stays one round trip. Everything that asks for
"the customer's segments" goes through it: customer-token reads of segments, items and
category trees, the `customerId` filter, `/segments/me`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from segments.choices import GroupUserType
from segments.models import CustomerAssignment, GroupAssignment, GroupMember
from segments.selectors.customer_assignments import customer_context_q
from tenants.models import Tenant


def counting_group_assignments(
    *, tenant: Tenant, customer_id: str, legal_entity_id: str | None
) -> QuerySet[GroupAssignment]:
    """The group assignments through which a customer (acting perhaps for a legal entity)
    belongs to segments."""
    groups = GroupMember.objects.filter(
        tenant=tenant, customer__tenant=tenant, customer__external_id=customer_id
    ).values("group_id")
    bound = Q(group__legal_entity__isnull=True)
    if legal_entity_id is not None:
        bound |= Q(group__legal_entity__external_id=legal_entity_id)
    return GroupAssignment.objects.filter(
        bound, tenant=tenant, group__in=groups, group__user_type=GroupUserType.CUSTOMER
    )


def membership_segment_ids(
    *, tenant: Tenant, customer_id: str, legal_entity_id: str | None
) -> QuerySet:
    """The ids (pks) of the segments a customer belongs to, directly or through a group,
    as one subquery: `Segment.objects.filter(id__in=membership_segment_ids(...))`.

    Effectiveness is not applied here: callers that need only effective segments add it.
    """
    direct = (
        CustomerAssignment.objects.filter(tenant=tenant, customer__tenant=tenant)
        .filter(
            customer_context_q(
                tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
            )
        )
        .order_by()
        .values("segment_id")
    )
    inherited = (
        counting_group_assignments(
            tenant=tenant, customer_id=customer_id, legal_entity_id=legal_entity_id
        )
        .order_by()
        .values("segment_id")
    )
    return direct.union(inherited)
