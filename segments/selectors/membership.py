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

from django.db import models
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Cast

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


MEMBER_COLUMNS = (
    "customer_pk",
    "customer_external_id",
    "first_name",
    "last_name",
    "email",
    "legal_entity_external_id",
    "legal_entity_name",
    "how",
    "group_external_id",
    "since",
)
INHERITED = "GROUP"  # the `how` of a member through a group (else MANUAL or AUTOMATIC)


def _member_search(rows: QuerySet, search: str) -> QuerySet:
    for word in search.split():
        rows = rows.filter(
            Q(customer__external_id__startswith=word)
            | Q(customer__first_name__icontains=word)
            | Q(customer__last_name__icontains=word)
            | Q(customer__email__icontains=word)
        )
    return rows


def segment_memberships(*, tenant: Tenant, segment_pk: int, search: str = "") -> QuerySet:
    """Everyone in a segment, by the same rule as `membership_segment_ids` seen from the
    segment's side: its customer assignments (MANUAL or AUTOMATIC) and the members of the
    CUSTOMER groups assigned to it (`how` = "GROUP", with the group and the legal entity it
    is bound to), as one `UNION ALL` of dicts (`MEMBER_COLUMNS`), by customer id.

    `search` matches an id prefix, or a part of the first name, last name or e-mail; every
    word must match. One query for a page, one for the count, whatever the segment holds.
    """
    text = models.CharField()
    direct = _member_search(
        CustomerAssignment.objects.filter(tenant=tenant, segment_id=segment_pk), search
    ).annotate(
        customer_pk=F("customer_id"),
        customer_external_id=F("customer__external_id"),
        first_name=F("customer__first_name"),
        last_name=F("customer__last_name"),
        email=F("customer__email"),
        legal_entity_external_id=F("legal_entity__external_id"),
        legal_entity_name=F("legal_entity__name"),
        how=Cast(F("assignment_type"), text),
        group_external_id=Cast(Value(""), text),
        since=F("created_at"),
    )
    inherited = _member_search(
        GroupMember.objects.filter(
            tenant=tenant,
            group__user_type=GroupUserType.CUSTOMER,
            group__assignments__tenant=tenant,
            group__assignments__segment_id=segment_pk,
        ),
        search,
    ).annotate(
        customer_pk=F("customer_id"),
        customer_external_id=F("customer__external_id"),
        first_name=F("customer__first_name"),
        last_name=F("customer__last_name"),
        email=F("customer__email"),
        legal_entity_external_id=F("group__legal_entity__external_id"),
        legal_entity_name=F("group__legal_entity__name"),
        how=Cast(Value(INHERITED), text),
        group_external_id=Cast(F("group__external_id"), text),
        since=F("group__assignments__created_at"),
    )
    return (
        direct.order_by()
        .values(*MEMBER_COLUMNS)
        .union(inherited.order_by().values(*MEMBER_COLUMNS), all=True)
        .order_by("customer_external_id", "legal_entity_external_id", "how", "group_external_id")
    )
